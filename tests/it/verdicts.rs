//! One lab setup per verdict: the binary's JSON must name the verdict, the curl code and the
//! evidence a user would act on.

use std::time::Duration;

use pinprobe::config::{Config, Options};
use pinprobe::lab::{closed_port, Behaviour, Ca, KeyKind, LeafSpec, Pki, Server};
use pinprobe::net::resolve::Resolver;
use pinprobe::report::Format;
use pinprobe::run::{context, run_to};
use time::OffsetDateTime;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn genuine_chain_under_cacert_root_is_ok() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["summary"]["total"], 1);
    assert_eq!(doc["summary"]["ok"], 1);
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    assert_eq!(r["url"], url(server.port()));
    assert_eq!(r["address"], format!("127.0.0.1:{}", server.port()));

    let public = &r["trust"]["public"];
    assert_eq!(public["verified"], true, "{r:#}");
    let anchor = text(&public["anchor"]["subject"], "anchor subject");
    assert!(anchor.contains("Pinprobe Lab Root CA"), "anchor {anchor}");
    // the anchor's pin, base64 as the chain's (a `sha256/` prefix is accepted too)
    let anchor_pin = text(&public["anchor"]["spki_sha256"], "anchor pin");
    assert_eq!(
        anchor_pin.trim_start_matches("sha256/"),
        pin_base64(pki.root.der())
    );
    assert!(text(&public["anchor"]["origin"], "origin").starts_with("--cacert"));

    let chain = r["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "{r:#}");
    for (cert, der) in chain.iter().zip([&pki.leaf.cert, pki.inter.der()]) {
        let pin = text(&cert["spki_sha256"], "spki_sha256");
        assert_eq!(pin.len(), 44);
        assert_eq!(
            pin,
            pin_base64(der),
            "pinprobe's pin differs from x509-parser's"
        );
        assert_eq!(cert["spki_sha256_hex"], pin_hex(der));
    }
    assert_eq!(chain[0]["sans"][0], HOST);
    assert!(text(&chain[1]["subject"], "subject").contains("Pinprobe Lab Issuing CA"));

    assert!(r["tls"]["version"].is_string(), "{:#}", r["tls"]);
    assert_eq!(r["http"]["answer"]["status"], 200);
    assert_eq!(r["http"]["answer"]["body"], "OK");
    assert!(signals(&r).is_empty(), "{:#}", r["interception"]);
}

/// A profile with pin sets in every syntax of the design: one set of unrelated pins and one
/// set per syntax holding the intermediate's pin.
fn pin_profile(port: u16, inter_b64: &str, inter_hex: &str) -> String {
    let other = unrelated_pin("not a key of this lab");
    let other2 = unrelated_pin("another stranger");
    let endpoint = |set: &str| {
        format!(
            "[[endpoints]]\nurl = \"{}\"\npinset = \"{set}\"\nexpect_status = 200\nexpect_body = \"OK\"\n\n",
            url(port)
        )
    };
    let mut toml = format!(
        r#"description = "pin syntaxes"

[pinsets.strangers]
pins = [
  "sha256/{other}",
  {{ pin = "sha256//{other2}", label = "stranger", source = "test" }},
]

[pinsets.okhttp]
pins = ["sha256/{other}", "sha256/{inter_b64}"]

[pinsets.curl]
pins = [{{ pin = "sha256//{inter_b64}", label = "lab issuing CA", source = "test" }}]

[pinsets.hpkp]
pins = ['pin-sha256="{inter_b64}"']

[pinsets.hex]
pins = ["{inter_hex}"]

"#
    );
    for set in ["strangers", "okhttp", "curl", "hpkp", "hex"] {
        toml.push_str(&endpoint(set));
    }
    toml
}

/// A service that sets 70 cookies answers "OK" like any other: the headers of an answer are
/// bounded by its bytes, not by a count.
#[tokio::test(flavor = "multi_thread")]
async fn seventy_set_cookie_headers_are_still_ok() {
    let pki = genuine_pki(&[HOST]);
    let mut answer = String::from("HTTP/1.1 200 OK\r\n");
    for i in 0..70 {
        answer.push_str(&format!("Set-Cookie: c{i}=v; Path=/; Secure; HttpOnly\r\n"));
    }
    answer.push_str("Content-Length: 2\r\nConnection: close\r\n\r\nOK");
    let server = serve(&pki.leaf, Behaviour::Answer(answer.into_bytes())).await;
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    assert_verdict(&out.result(), "ok", 0);
    out.assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn pins_decide_between_pin_mismatch_and_ok_in_every_syntax() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let inter = pki.inter.der();
    let probe = Probe::new();
    let profile = pin_profile(server.port(), &pin_base64(inter), &pin_hex(inter));
    let out = probe
        .profile(&profile)
        .cacert(&pki.root)
        .resolve(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let results = out.results();
    assert_eq!(results.len(), 5);

    let mismatch = &results[0];
    assert_verdict(mismatch, "pin-mismatch", 90);
    assert_eq!(mismatch["pins"]["set"], "strangers");
    assert_eq!(mismatch["pins"]["matched"], false);
    assert_eq!(mismatch["trust"]["public"]["verified"], true);
    // the evidence names the set and the pins that are on the path instead
    let detail = text(&mismatch["detail"], "detail");
    assert!(detail.contains("strangers"), "{detail}");
    assert!(detail.contains(&pin_base64(inter)), "{detail}");

    for (r, set) in results[1..].iter().zip(["okhttp", "curl", "hpkp", "hex"]) {
        assert_verdict(r, "ok", 0);
        assert_eq!(r["pins"]["set"], set);
        assert_eq!(r["pins"]["matched"], true, "{r:#}");
        let matches = r["pins"]["matches"].as_array().expect("matches");
        assert_eq!(matches.len(), 1, "{set}: {matches:#?}");
        assert_eq!(matches[0]["pin"], format!("sha256/{}", pin_base64(inter)));
        assert_eq!(r["http"]["expect_status"], 200);
        assert_eq!(r["http"]["expect_body"], "OK");
    }
    assert_eq!(results[2]["pins"]["matches"][0]["label"], "lab issuing CA");
}

/// A CA with the name an enterprise gives its inspection device.
fn inspection_ca() -> Ca {
    Ca::root("Corp SSL Inspection CA", "Corp IT", KeyKind::EcdsaP256).expect("inspection CA")
}

#[tokio::test(flavor = "multi_thread")]
async fn anchor_only_in_os_store_is_ssl_interception() {
    let ca = inspection_ca();
    let leaf = ca.leaf(&LeafSpec::new([HOST])).expect("forged leaf");
    let server = serve(&leaf, http(200, "OK")).await;
    let out = Probe::new()
        .os_trusts(&ca)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "ssl-interception", 60);
    assert_eq!(r["trust"]["os"]["verified"], true, "{:#}", r["trust"]);
    assert_eq!(r["trust"]["public"]["verified"], false);
    assert!(text(&r["trust"]["os"]["anchor"]["subject"], "os anchor")
        .contains("Corp SSL Inspection CA"));
    let s = signal(&r, "os-store-only-anchor");
    assert_eq!(s["strength"], "strong");
    assert!(
        text(&s["detail"], "detail").contains("Corp SSL Inspection CA"),
        "{s:#}"
    );
    assert!(
        text(&r["detail"], "detail").contains("Corp SSL Inspection CA"),
        "{r:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn known_interceptor_name_names_the_vendor() {
    let ca = Ca::root("Zscaler Root CA", "Zscaler Inc.", KeyKind::EcdsaP256).expect("CA");
    let leaf = ca.leaf(&LeafSpec::new([HOST])).expect("forged leaf");
    let server = serve(&leaf, http(200, "OK")).await;
    let out = Probe::new().endpoint(server.port()).json().run().await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "ssl-interception", 60);
    assert_eq!(r["interception"]["vendor"], "Zscaler");
    let s = signal(&r, "known-interceptor");
    assert_eq!(s["strength"], "strong");
    assert!(
        text(&s["detail"], "detail").contains("Zscaler Root CA"),
        "{s:#}"
    );
    assert_eq!(r["trust"]["public"]["verified"], false);
    assert_eq!(r["trust"]["os"]["verified"], false);
    assert!(text(&r["detail"], "detail").starts_with("Zscaler"), "{r:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn self_signed_leaf_is_untrusted_without_strong_evidence() {
    let leaf = Ca::self_signed_leaf(&LeafSpec::new([HOST])).expect("self-signed leaf");
    let server = serve(&leaf, http(200, "OK")).await;
    let out = Probe::new().endpoint(server.port()).json().run().await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "untrusted-chain", 60);
    assert!(
        signals(&r).iter().all(|s| s["strength"] != "strong"),
        "{:#}",
        r["interception"]
    );
    assert!(r["interception"]["vendor"].is_null());
    assert_eq!(r["chain"].as_array().map(Vec::len), Some(1));
    assert!(
        text(&r["detail"], "detail").contains("self-signed"),
        "{r:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn leaf_for_another_name_is_name_mismatch() {
    let pki = genuine_pki(&["other.test"]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "name-mismatch", 60);
    let detail = text(&r["detail"], "detail");
    assert!(
        detail.contains("other.test") && detail.contains(HOST),
        "{detail}"
    );
    assert_eq!(r["trust"]["hostname"]["ok"], false);
    assert_eq!(r["trust"]["public"]["verified"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn leaf_outside_its_validity_is_expired_or_not_yet_valid() {
    let now = OffsetDateTime::now_utc();
    let mut expired = LeafSpec::new([HOST]);
    expired.not_before = now - time::Duration::hours(12);
    expired.not_after = now - time::Duration::hours(1);
    let mut early = LeafSpec::new([HOST]);
    early.not_before = now + time::Duration::days(1);
    early.not_after = now + time::Duration::days(30);

    for (spec, verdict, words) in [
        (expired, "expired", "expired"),
        (early, "not-yet-valid", "not valid before"),
    ] {
        let pki = Pki::with_spec(KeyKind::EcdsaP256, &spec).expect("lab pki");
        let server = serve(&pki.leaf, http(200, "OK")).await;
        let out = Probe::new()
            .cacert(&pki.root)
            .endpoint(server.port())
            .json()
            .run()
            .await;
        out.assert_code(1);
        let r = out.result();
        assert_verdict(&r, verdict, 60);
        let detail = text(&r["detail"], "detail");
        assert!(detail.contains(words) && detail.contains(HOST), "{detail}");
        assert_eq!(r["trust"]["validity"]["ok"], false);
        // the path would be good but for the clock: the anchor is still named
        assert!(
            text(&r["trust"]["public"]["anchor"]["subject"], "anchor")
                .contains("Pinprobe Lab Root CA"),
            "{:#}",
            r["trust"]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_or_garbage_during_handshake_is_handshake_failed() {
    for (behaviour, words) in [
        (Behaviour::ResetAfterClientHello, "reset"),
        (Behaviour::Garbage, "not TLS"),
    ] {
        let server = Server::start_raw(behaviour.clone()).await.expect("server");
        let out = Probe::new()
            .endpoint(server.port())
            .json()
            .args(["--connect-timeout", "2", "--timeout", "4"])
            .run()
            .await;
        out.assert_code(1);
        let r = out.result();
        assert_verdict(&r, "handshake-failed", 35);
        assert!(
            text(&r["detail"], "detail").contains(words),
            "{behaviour:?}: {r:#}"
        );
        assert!(r["chain"].as_array().is_some_and(Vec::is_empty));
        assert!(server.accepted() >= 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_port_is_connect_failed() {
    let port = closed_port().expect("a free port");
    let out = Probe::new()
        .endpoint(port)
        .json()
        .args(["--connect-timeout", "2", "--timeout", "4"])
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "connect-failed", 7);
    assert!(text(&r["detail"], "detail").contains("refused"), "{r:#}");
    assert_eq!(r["resolved_by"], "override");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_name_is_dns_failed() {
    // In process with a resolver that knows no name: nothing leaves the machine.
    let options = Options {
        urls: vec!["https://nowhere.invalid/ping".into()],
        format: Format::Json,
        connect_timeout: 2.0,
        timeout: 4.0,
        ..Options::default()
    };
    let config = Config::from_options(&options).expect("valid options");
    let ctx = context(&config, Resolver::fixed(vec![])).expect("context");
    let mut out: Vec<u8> = Vec::new();
    let summary = tokio::time::timeout(
        Duration::from_secs(10),
        run_to(&config, ctx, &mut out, "buffer"),
    )
    .await
    .expect("the run ends in time")
    .expect("the run completes");
    assert_eq!((summary.total, summary.failed), (1, 1));
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("JSON report");
    let r = &doc["results"][0];
    assert_verdict(r, "dns-failed", 6);
    assert!(
        text(&r["detail"], "detail").contains("nowhere.invalid"),
        "{r:#}"
    );
    assert_eq!(doc["summary"]["verdicts"]["dns-failed"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_server_is_a_timeout_in_the_handshake_phase() {
    let server = Server::start_raw(Behaviour::Silent).await.expect("server");
    let out = Probe::new()
        .endpoint(server.port())
        .json()
        .args(["--connect-timeout", "1", "--timeout", "2"])
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "timeout", 28);
    assert!(
        text(&r["detail"], "detail").contains("tls-handshake"),
        "{r:#}"
    );
    assert!(
        out.elapsed < Duration::from_secs(10),
        "took {:?}",
        out.elapsed
    );
}

fn expect_ok_profile(port: u16) -> String {
    format!(
        "[[endpoints]]\nurl = \"{}\"\nexpect_status = 200\nexpect_body = \"OK\"\n",
        url(port)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn unexpected_http_answer_is_http_unexpected() {
    let pki = genuine_pki(&[HOST]);
    let wrong_body = serve(&pki.leaf, http(200, "Forbidden")).await;
    let unavailable = serve(&pki.leaf, http(503, "OK")).await;

    let out = Probe::new()
        .profile(&expect_ok_profile(wrong_body.port()))
        .cacert(&pki.root)
        .resolve(wrong_body.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_eq!(r["verdict"], "http-unexpected", "{r:#}");
    let detail = text(&r["detail"], "detail");
    assert!(
        detail.contains("Forbidden") && detail.contains("OK"),
        "{detail}"
    );
    assert_eq!(r["http"]["answer"]["body"], "Forbidden");

    let out = Probe::new()
        .profile(&expect_ok_profile(unavailable.port()))
        .cacert(&pki.root)
        .resolve(unavailable.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "http-unexpected", 22);
    assert!(text(&r["detail"], "detail").contains("503"), "{r:#}");

    let out = Probe::new()
        .profile(&expect_ok_profile(wrong_body.port()))
        .cacert(&pki.root)
        .resolve(wrong_body.port())
        .args(["--no-http"])
        .json()
        .run()
        .await;
    out.assert_code(0);
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    assert!(r["http"].is_null(), "--no-http sent a request: {r:#}");
}

/// Defender's agent sends HEAD to some endpoints and an empty POST to others: the profile's
/// `method` is the request the server sees, the answer is read as an answer to it (none of the
/// body its Content-Length announces comes to HEAD), and the JSON and the evidence name it.
#[tokio::test(flavor = "multi_thread")]
async fn head_and_post_endpoints_send_their_method() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let base = format!("https://{HOST}:{}", server.port());
    let profile = format!(
        "[[endpoints]]\nurl = \"{base}/packages/?ostype=mac\"\nmethod = \"HEAD\"\nexpect_status = 200\n\n\
         [[endpoints]]\nurl = \"{base}/smartscreen\"\nmethod = \"POST\"\nexpect_status = 200\nexpect_body = \"OK\"\n\n\
         [[endpoints]]\nurl = \"{base}/ping\"\nexpect_body = \"OK\"\n"
    );
    let out = Probe::new()
        .profile(&profile)
        .cacert(&pki.root)
        .resolve(server.port())
        .json()
        .run()
        .await;
    out.assert_code(0);
    let results = out.results();
    assert_eq!(results.len(), 3);
    for (r, method) in results.iter().zip(["HEAD", "POST", "GET"]) {
        assert_verdict(r, "ok", 0);
        assert_eq!(r["http"]["method"], method, "{r:#}");
        assert_eq!(r["http"]["answer"]["status"], 200, "{r:#}");
    }
    assert_eq!(results[0]["http"]["answer"]["body"], "");
    assert_eq!(results[1]["http"]["answer"]["body"], "OK");
    assert_eq!(results[1]["http"]["expect_body"], "OK");

    // the probes run at once, so the server saw them in any order
    let mut seen: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| {
            (
                r.method,
                r.target,
                r.head.contains("\r\nContent-Length: 0\r\n"),
            )
        })
        .collect();
    seen.sort();
    let want = [
        ("GET", "/ping", false),
        ("HEAD", "/packages/?ostype=mac", false),
        ("POST", "/smartscreen", true),
    ]
    .map(|(m, t, length)| (m.to_string(), t.to_string(), length));
    assert_eq!(seen, want);

    // a HEAD endpoint answered otherwise names its request in the evidence
    let missing = serve(&pki.leaf, http(404, "not here")).await;
    let profile = format!(
        "[[endpoints]]\nurl = \"https://{HOST}:{}/packages/?ostype=mac\"\nmethod = \"HEAD\"\nexpect_status = 200\n",
        missing.port()
    );
    let out = Probe::new()
        .profile(&profile)
        .cacert(&pki.root)
        .resolve(missing.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "http-unexpected", 22);
    assert_eq!(
        r["detail"], "HEAD /packages/?ostype=mac: status 404 Not Found, expected 200",
        "{r:#}"
    );
    assert_eq!(r["http"]["method"], "HEAD");
    assert_eq!(missing.requests()[0].method, "HEAD");
}

/// DESIGN.md's verdict table gives http-unexpected the curl code 22, and the text report's
/// advice block prints 22; the result line must not say something else for a wrong body.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_body_keeps_the_curl_code_of_the_verdict_table() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "Forbidden")).await;
    let out = Probe::new()
        .profile(&expect_ok_profile(server.port()))
        .cacert(&pki.root)
        .resolve(server.port())
        .run()
        .await;
    out.assert_code(1);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Testing connection with"))
        .expect("a result line");
    assert!(
        out.stdout
            .contains("http-unexpected (curl 22), 1 endpoint:"),
        "{}",
        out.stdout
    );
    assert!(
        line.contains("[ERROR] http-unexpected (curl 22): "),
        "the result line and the advice block disagree on the curl code:\n{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn appended_genuine_root_does_not_satisfy_the_pin() {
    let genuine = Ca::root("Pinprobe Genuine Root", "Pinprobe Lab", KeyKind::EcdsaP256)
        .expect("genuine root");
    let ca = inspection_ca();
    let leaf = ca.leaf(&LeafSpec::new([HOST])).expect("forged leaf");
    let chain = vec![leaf.cert.clone(), ca.der().clone(), genuine.der().clone()];
    let server = serve_chain(chain, &leaf, http(200, "OK")).await;
    let profile = format!(
        "[pinsets.genuine]\npins = [\"sha256/{}\"]\n\n[[endpoints]]\nurl = \"{}\"\npinset = \"genuine\"\n",
        pin_base64(genuine.der()),
        url(server.port())
    );

    // the inspection CA installed in the OS store: interception
    let out = Probe::new()
        .profile(&profile)
        .cacert(&genuine)
        .os_trusts(&ca)
        .resolve(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "ssl-interception", 60);
    assert_eq!(r["pins"]["matched"], false, "{:#}", r["pins"]);
    assert_eq!(r["chain"].as_array().map(Vec::len), Some(3));
    assert_eq!(signal(&r, "os-store-only-anchor")["strength"], "strong");

    // nothing installed: the chain is trusted nowhere, and still the pin does not match
    let out = Probe::new()
        .profile(&profile)
        .cacert(&genuine)
        .resolve(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_ne!(r["verdict"], "ok", "{r:#}");
    assert_verdict(&r, "untrusted-chain", 60);
    assert_eq!(r["pins"]["matched"], false, "{:#}", r["pins"]);
    // one medium signal alone decides nothing
    assert_eq!(signal(&r, "appended-genuine")["strength"], "medium");
    assert!(r["interception"].get("confidence").is_none(), "{r:#}");

    // the pin set expects the genuine issuer's organisation: two independent signs of a
    // re-signing device on a chain anchored nowhere are interception, confidence medium
    let expecting = profile.replace(
        "[pinsets.genuine]\n",
        "[pinsets.genuine]\nexpect_issuer_orgs = [\"Pinprobe Lab\"]\n",
    );
    let out = Probe::new()
        .profile(&expecting)
        .cacert(&genuine)
        .resolve(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "ssl-interception", 60);
    assert_eq!(r["interception"]["confidence"], "medium", "{r:#}");
    signal(&r, "unexpected-issuer");
    let appended = text(&signal(&r, "appended-genuine")["detail"], "detail");
    assert!(appended.contains("#2 Pinprobe Genuine Root"), "{appended}");
}

/// The no-false-alarm cases of the combination rule: a server that does not send its
/// intermediate is `untrusted-chain`, named as such, even under a pin set that expects its
/// issuer; a chain re-issued by another CA that `--cacert` vouches for is pin drift.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_intermediate_and_a_new_ca_are_not_interception() {
    let pki = genuine_pki(&[HOST]);
    let leaf_only = serve_chain(vec![pki.leaf.cert.clone()], &pki.leaf, http(200, "OK")).await;
    let profile = |port: u16| {
        format!(
            "[pinsets.svc]\nexpect_issuer_orgs = [\"Pinprobe Lab\"]\npins = [{{ pin = \"sha256/{}\", label = \"intermediate: Pinprobe Lab Issuing CA\" }}]\n\n[[endpoints]]\nurl = \"{}\"\npinset = \"svc\"\n",
            pin_base64(pki.inter.der()),
            url(port)
        )
    };
    let out = Probe::new()
        .profile(&profile(leaf_only.port()))
        .cacert(&pki.root)
        .resolve(leaf_only.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "untrusted-chain", 60);
    let detail = text(&r["detail"], "detail");
    assert!(
        detail.contains("the server did not send the intermediate that issued the leaf"),
        "{detail}"
    );

    // the service moved to another CA (both roots vouched for with --cacert)
    let other = Pki::with_spec(KeyKind::EcdsaP256, &LeafSpec::new([HOST])).expect("other PKI");
    let moved = serve(&other.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .profile(&profile(moved.port()))
        .cacert(&pki.root)
        .cacert(&other.root)
        .resolve(moved.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "pin-mismatch", 90);
    assert!(r["interception"].get("confidence").is_none(), "{r:#}");
    assert_eq!(r["drift"]["change"], "ca-change", "{r:#}");
}

/// DESIGN.md: "`deny` pins (known shared-key interceptors) fail a chain whatever else
/// matches". Here the set allows the root and denies the intermediate's key; both are on the
/// verified path. Also the `--pins FILE --pinset NAME URL` route to a pin set.
#[tokio::test(flavor = "multi_thread")]
async fn deny_pin_fails_a_chain_whatever_else_matches() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let probe = Probe::new();
    let pins = probe.file(
        "pins.toml",
        &format!(
            "[pinsets.lab]\npins = [\"sha256/{}\"]\ndeny = [{{ pin = \"sha256/{}\", label = \"leaked intermediate key\", source = \"test\" }}]\n",
            pin_base64(pki.root.der()),
            pin_base64(pki.inter.der())
        ),
    );
    let out = probe
        .args([std::ffi::OsString::from("--pins"), pins.into_os_string()])
        .args(["--pinset", "lab"])
        .cacert(&pki.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    let r = out.result();
    assert_eq!(r["pins"]["set"], "lab");
    let s = signal(&r, "deny-pin");
    assert_eq!(s["strength"], "strong");
    assert!(
        text(&s["detail"], "detail").contains("leaked intermediate key"),
        "{s:#}"
    );
    assert_verdict(&r, "ssl-interception", 60);
    out.assert_code(1);
}

/// An anchor's own dates count, as `openssl verify` counts them: an expired `--cacert` root is
/// `expired` naming the anchor, and one about to expire is an `expires-soon` warning.
#[tokio::test(flavor = "multi_thread")]
async fn an_anchor_out_of_date_is_expired_and_one_about_to_expire_is_warned() {
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    for (root_ends, verdict) in [(now - day, "expired"), (now + 9 * day, "ok")] {
        let root = Ca::root_valid(
            "Short-lived Root",
            "Pinprobe Lab",
            KeyKind::EcdsaP256,
            now - 400 * day,
            root_ends,
        )
        .expect("root");
        let inter = root
            .intermediate(
                "Pinprobe Lab Issuing CA",
                "Pinprobe Lab",
                KeyKind::EcdsaP256,
            )
            .expect("intermediate");
        let leaf = inter.leaf(&LeafSpec::new([HOST])).expect("leaf");
        let out = probe_chain(&root, leaf.chain(), &leaf).await;
        let r = out.result();
        assert_eq!(r["verdict"], verdict, "{r:#}");
        if verdict == "expired" {
            out.assert_code(1);
            let detail = text(&r["detail"], "detail");
            assert!(
                detail.contains("the anchor \"CN=Short-lived Root, O=Pinprobe Lab\""),
                "{detail}"
            );
            assert!(detail.contains("expired on"), "{detail}");
        } else {
            out.assert_code(0);
            let warned = r["warnings"].as_array().expect("warnings").iter().any(|w| {
                w["warning"] == "expires-soon"
                    && text(&w["detail"], "detail").starts_with("anchor CN=Short-lived Root")
            });
            assert!(warned, "{r:#}");
        }
    }
}

/// A leaf that expired before its intermediate was re-issued (same name, same key): no moment
/// has every certificate valid, yet the signatures lead to the anchor, so the chain is
/// `expired`, not `untrusted-chain`. Another key under the same name is still untrusted.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_leaf_under_a_reissued_intermediate_is_expired() {
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let root = Ca::root("Pinprobe Lab Root CA", "Pinprobe Lab", KeyKind::EcdsaP256).expect("root");
    let old = root
        .intermediate_valid(
            "Pinprobe Lab Issuing CA",
            "Pinprobe Lab",
            KeyKind::EcdsaP256,
            now - 900 * day,
            now - 250 * day,
        )
        .expect("old intermediate");
    let leaf = old
        .leaf(&LeafSpec {
            not_before: now - 400 * day,
            not_after: now - 300 * day,
            ..LeafSpec::new([HOST])
        })
        .expect("leaf");
    let renewed = old
        .reissued_by(&root, now - 200 * day, now + 500 * day)
        .expect("renewed intermediate");
    let out = probe_chain(&root, vec![leaf.cert.clone(), renewed.der().clone()], &leaf).await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "expired", 60);
    assert_eq!(
        r["trust"]["public"]["path"],
        serde_json::json!([0, 1]),
        "{r:#}"
    );

    // the same names with another key: the signatures lead nowhere
    let stranger = root
        .intermediate(
            "Pinprobe Lab Issuing CA",
            "Pinprobe Lab",
            KeyKind::EcdsaP256,
        )
        .expect("stranger");
    let out = probe_chain(
        &root,
        vec![leaf.cert.clone(), stranger.der().clone()],
        &leaf,
    )
    .await;
    out.assert_code(1);
    assert_verdict(&out.result(), "untrusted-chain", 60);
}
