//! `pinprobe inspect`: every section of one chain's analysis, live or from a PEM file captured
//! elsewhere, and the same analysis either way.

use std::path::{Path, PathBuf};

use pinprobe::lab::{Ca, KeyKind, LeafSpec};
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::*;

/// A run of `pinprobe inspect`.
fn inspect() -> Probe {
    Probe::new().args(["inspect"])
}

/// What `openssl s_client -showcerts` prints for the lab chain: the certificates in the order
/// served, with its own text before, between and after them.
fn s_client_output(pki: &Pki) -> String {
    format!(
        "CONNECTED(00000003)\n\
         depth=1 O = Pinprobe Lab, CN = Pinprobe Lab Issuing CA\n\
         verify error:num=20:unable to get local issuer certificate\n\
         ---\n\
         Certificate chain\n \
         0 s:CN = {HOST}\n   i:O = Pinprobe Lab, CN = Pinprobe Lab Issuing CA\n   \
         a:PKEY: id-ecPublicKey, 256 (bit); sigalg: ecdsa-with-SHA256\n\
         {} 1 s:O = Pinprobe Lab, CN = Pinprobe Lab Issuing CA\n   \
         i:O = Pinprobe Lab, CN = Pinprobe Lab Root CA\n\
         {}---\n\
         Server certificate\n\
         subject=CN = {HOST}\n\
         ---\n\
         SSL handshake has read 1402 bytes and written 389 bytes\n\
         New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384\n",
        pki.leaf.pem(),
        pki.inter.pem()
    )
}

/// The SHA-256 fingerprint of a certificate, hex.
fn fingerprint(der: &CertificateDer<'_>) -> String {
    hex::encode(Sha256::digest(der.as_ref()))
}

/// Asserts that `text` holds `parts` in this order.
fn assert_in_order(text: &str, parts: &[&str]) {
    let mut at = 0;
    for part in parts {
        match text[at..].find(part) {
            Some(pos) => at += pos + part.len(),
            None => panic!("{part:?} missing, or out of order, in:\n{text}"),
        }
    }
}

/// A file outside any run's directory, so that two runs name the same `--cacert` file and
/// their anchors have the same origin.
fn shared_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write shared file");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn live_inspect_shows_every_section() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let port = server.port();
    let out = inspect().cacert(&pki.root).endpoint(port).run().await;
    out.assert_code(0);
    let s = &out.stdout;

    assert_in_order(
        s,
        &[
            &format!(
                "pinprobe {} inspect {}\n",
                env!("CARGO_PKG_VERSION"),
                url(port)
            ),
            &format!("  address    127.0.0.1:{port} (--resolve)\n"),
            &format!(
                "  pin set    none: {HOST}:{port} is not an endpoint of pins/mde.toml (bundled)"
            ),
            "  anchors    public ",
            "\nTLS\n  version       TLSv1_3\n  cipher suite  TLS13_",
            "  key exchange  ",
            "  ALPN          none\n",
            "\nchain as sent: 2 certificates\n",
            &format!("  #0 {HOST} (leaf)\n    subject      CN={HOST}\n"),
            "    issuer       ",
            "Pinprobe Lab Issuing CA",
            "    valid        ",
            " days left\n",
            &format!("    names        {HOST}\n"),
            "    key          EC P-256\n",
            "    signature    ecdsa-with-SHA256\n",
            &format!("    pin          sha256/{}\n", pin_base64(&pki.leaf.cert)),
            &format!("    pin hex      {}\n", pin_hex(&pki.leaf.cert)),
            &format!("    fingerprint  SHA-256 {}\n", fingerprint(&pki.leaf.cert)),
            "  #1 Pinprobe Lab Issuing CA (CA)\n",
            &format!("    pin          sha256/{}\n", pin_base64(pki.inter.der())),
            &format!(
                "    fingerprint  SHA-256 {}\n",
                fingerprint(pki.inter.der())
            ),
            "\npaths\n",
            "  public  verified  #0 -> #1 -> anchor ",
            &format!(
                "CN=Pinprobe Lab Root CA, O=Pinprobe Lab (sha256/{}, --cacert ",
                pin_base64(pki.root.der())
            ),
            "  os      none      no path to any of the 0 os anchors (unknown issuer)\n",
            "#0 -> #1 stops at #1 Pinprobe Lab Issuing CA: its issuer \"",
            "CN=Pinprobe Lab Root CA, O=Pinprobe Lab\" was not sent, and no os anchor holds it\n",
            "\nhost name check\n  ok: the leaf covers the host name\n",
            "\nvalidity check\n  ok: ",
            "\npins\n  set      none: verdict on trust alone\n  pins to add",
            "\nevidence\n  none\n  vendor   none named\n",
            "\nwarnings\n  none\n",
            "\nHTTP\n  answer    200 OK \"OK\"\n  expected  any HTTP answer\n",
            "\nverdict: ok (curl 0): the chain verifies against ",
        ],
    );
    assert!(
        s.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("verdict: ok (curl 0): ")),
        "{s}"
    );
}

/// The result of an inspection without what only a live probe has.
fn analysis(doc: &Value) -> Value {
    let mut result = doc["inspect"].clone();
    let fields = result.as_object_mut().expect("inspect is an object");
    for live_only in [
        "timings_ms",
        "route",
        "address",
        "resolved_by",
        "tls",
        "http",
        "endpoint",
    ] {
        fields.remove(live_only);
    }
    result
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_from_a_pem_file_gives_the_same_analysis_as_the_live_one() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let port = server.port();
    let shared = tempfile::tempdir().expect("temporary directory");
    let root = shared_file(shared.path(), "root.pem", &pki.root.pem());

    let live = inspect()
        .args(flag("--cacert", &root))
        .endpoint(port)
        .json()
        .args(["-o", "live.json"])
        .run()
        .await;
    live.assert_code(0);
    assert_eq!(live.stdout, "", "-o sends the report to the file");
    let live_doc: Value = serde_json::from_str(
        &std::fs::read_to_string(live.dir().join("live.json")).expect("-o file written"),
    )
    .expect("-o file is JSON");

    let probe = inspect();
    let file = probe.file("chain.pem", &s_client_output(&pki));
    let saved = probe
        .args(flag("--file", &file))
        .args(flag("--cacert", &root))
        .args([url(port)])
        .json()
        .run()
        .await;
    saved.assert_code(0);
    let file_doc = saved.json();

    let (live_r, file_r) = (&live_doc["inspect"], &file_doc["inspect"]);
    assert_verdict(live_r, "ok", 0);
    assert_verdict(file_r, "ok", 0);
    assert_eq!(file_r["route"]["via"], "file");
    assert!(
        file_r["tls"].is_null() && file_r["http"].is_null(),
        "{file_r:#}"
    );
    let chain = file_r["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "the order in the file is the order as sent");
    assert_eq!(chain[0]["spki_sha256"], pin_base64(&pki.leaf.cert));
    assert_eq!(chain[1]["spki_sha256"], pin_base64(pki.inter.der()));
    assert_eq!(live_r["chain"], file_r["chain"]);
    assert_eq!(live_r["trust"]["public"], file_r["trust"]["public"]);
    assert_eq!(live_r["trust"]["os"], file_r["trust"]["os"]);
    assert_eq!(analysis(&live_doc), analysis(&file_doc));
    assert_eq!(live_doc["stops"], file_doc["stops"]);
    assert!(live_doc["stops"]["public"].is_null());
    assert_eq!(live_doc["stops"]["os"]["at"], 1);
    assert_eq!(live_doc["pinset_reason"], file_doc["pinset_reason"]);
    assert_eq!(
        live_doc["pinprobe"]["version"],
        env!("CARGO_PKG_VERSION"),
        "{live_doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intercepted_endpoint_shows_the_os_store_only_anchor() {
    let ca = Ca::root("Corp SSL Inspection CA", "Corp IT", KeyKind::EcdsaP256).expect("CA");
    let leaf = ca.leaf(&LeafSpec::new([HOST])).expect("forged leaf");
    let server = serve(&leaf, http(200, "OK")).await;
    let port = server.port();
    let run = |json: bool| {
        let probe = inspect().os_trusts(&ca).endpoint(port);
        if json {
            probe.json().run()
        } else {
            probe.run()
        }
    };
    let (text, json) = tokio::join!(run(false), run(true));

    text.assert_code(1);
    assert_in_order(
        &text.stdout,
        &[
            "\nchain as sent: 1 certificate\n",
            &format!("  #0 {HOST} (leaf)\n"),
            "  public  none      no path to any of the ",
            "#0 stops at #0 lab.test: its issuer \"",
            "CN=Corp SSL Inspection CA, O=Corp IT\" was not sent, and no public anchor holds it\n",
            "  os      verified  #0 -> anchor ",
            "CN=Corp SSL Inspection CA, O=Corp IT (sha256/",
            "\npins\n  set      none: verdict on trust alone\n  pins to add: none: ",
            "pinning it would accept the interception\n",
            "\nevidence\n  [strong] os-store-only-anchor: the chain is anchored at \"",
            "Corp SSL Inspection CA",
            "\nverdict: ssl-interception (curl 60): ",
        ],
    );

    json.assert_code(1);
    let doc = json.json();
    let r = &doc["inspect"];
    assert_verdict(r, "ssl-interception", 60);
    assert_eq!(signal(r, "os-store-only-anchor")["strength"], "strong");
    assert!(doc["stops"]["os"].is_null(), "{:#}", doc["stops"]);
    assert_eq!(doc["stops"]["public"]["at"], 0);
    assert!(text_of(&doc["stops"]["public"]["issuer"]).contains("Corp SSL Inspection CA"));
}

fn text_of(value: &Value) -> &str {
    text(value, "field")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_without_certificates_or_no_target_is_a_usage_error() {
    let probe = inspect();
    let file = probe.file(
        "capture.txt",
        "CONNECTED(00000003)\nwrite:errno=104\n---\nno peer certificate available\n---\n",
    );
    let out = probe.args(flag("--file", &file)).run().await;
    out.assert_code(2);
    assert!(
        out.stderr.contains(&file.display().to_string())
            && out
                .stderr
                .contains("no certificate found: expected -----BEGIN CERTIFICATE----- blocks"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");

    let out = inspect().run().await;
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("inspect: give a URL or HOST[:PORT], or --file FILE"),
        "{}",
        out.stderr
    );
}

/// A PEM file cut in the middle of a block is an error at the line of that block, for
/// `inspect --file` and for `--cacert`, never a list of byte values.
#[tokio::test(flavor = "multi_thread")]
async fn a_cut_pem_block_is_named_by_its_line() {
    let pki = genuine_pki(&[HOST]);
    let leaf = pki.leaf.pem();
    let cut: String = leaf.lines().take(4).map(|l| format!("{l}\n")).collect();
    let line = leaf.lines().count() + 1;
    let probe = inspect();
    let file = probe.file("cut.pem", &format!("{leaf}{cut}"));
    let expected = format!(
        "{}: line {line}: the block that starts here has no -----END CERTIFICATE----- line",
        file.display()
    );
    let out = probe.args(flag("--file", &file)).run().await;
    out.assert_code(2);
    assert!(out.stderr.contains(&expected), "{}", out.stderr);
    assert!(!out.stderr.contains("[67, 69"), "{}", out.stderr);

    let probe = Probe::new();
    let file = probe.file("cut.pem", &format!("{leaf}{cut}"));
    let out = probe
        .args(flag("--cacert", &file))
        .args(["https://lab.test/"])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr
            .contains(&format!("{}: line {line}:", file.display())),
        "{}",
        out.stderr
    );
}

/// The `{ pin = ..., label = ... },` lines under "pins to add".
fn pins_to_add(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("  pins to add"))
        .skip(1)
        .take_while(|l| l.starts_with("    { pin = "))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pins_to_add_list_the_path_of_an_unpinned_chain_ready_to_paste() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let port = server.port();
    let out = inspect().cacert(&pki.root).endpoint(port).run().await;
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "  pins to add, from the verified public path (leaf, intermediates, anchor):\n"
        ),
        "{}",
        out.stdout
    );
    let lines = pins_to_add(&out.stdout);
    // labelled as `pinprobe pin` labels them: position, name, expiry, the day taken
    let expected = [
        (&pki.leaf.cert, format!("leaf: {HOST}, expires 20")),
        (
            pki.inter.der(),
            "intermediate: Pinprobe Lab Issuing CA, expires 20".to_string(),
        ),
        (
            pki.root.der(),
            "anchor: Pinprobe Lab Root CA, expires 20".to_string(),
        ),
    ];
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    for (line, (der, label)) in lines.iter().zip(expected) {
        assert!(
            line.starts_with(&format!(
                "    {{ pin = \"sha256/{}\", label = \"{label}",
                pin_base64(der)
            )),
            "{line}"
        );
    }

    // pasted into a pin set, they make the endpoint pinned and ok
    let probe = inspect();
    let pins = probe.file(
        "lab-pins.toml",
        &format!("[pinsets.lab]\npins = [\n{}\n]\n", lines.join("\n")),
    );
    let out = probe
        .args(flag("--pins", &pins))
        .args(["--pinset", "lab"])
        .cacert(&pki.root)
        .endpoint(port)
        .json()
        .run()
        .await;
    out.assert_code(0);
    let doc = out.json();
    let r = &doc["inspect"];
    assert_verdict(r, "ok", 0);
    assert_eq!(r["pins"]["matched"], true);
    assert_eq!(r["pins"]["matches"].as_array().map(Vec::len), Some(3));
    assert!(r["pins"]["matches"][1]["label"]
        .as_str()
        .is_some_and(|l| l.starts_with("intermediate: Pinprobe Lab Issuing CA, expires 20")));
    assert_eq!(doc["pinset_reason"], "lab, given with --pinset");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pin_set_of_a_profile_endpoint_with_the_same_host_and_port_is_used() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let port = server.port();
    let profile = format!(
        "[pinsets.lab]\npins = [{{ pin = \"sha256/{}\", label = \"lab issuing CA\" }}]\n\n\
         [[endpoints]]\nurl = \"{}\"\npinset = \"lab\"\nexpect_status = 200\nexpect_body = \"OK\"\n",
        pin_base64(pki.inter.der()),
        url(port)
    );
    let shared = tempfile::tempdir().expect("temporary directory");
    let profile_path = shared_file(shared.path(), "profile.toml", &profile);
    let reason = format!(
        "lab, from endpoint {} of {} (the same host and port; its path and expected answer are used)",
        url(port),
        profile_path.display()
    );

    // HOST:PORT without a path means the profile's endpoint
    let out = inspect()
        .args(flag("--profile", &profile_path))
        .cacert(&pki.root)
        .resolve(port)
        .args([format!("{HOST}:{port}")])
        .json()
        .run()
        .await;
    out.assert_code(0);
    let doc = out.json();
    assert_eq!(doc["pinset_reason"], reason.as_str());
    let r = &doc["inspect"];
    assert_verdict(r, "ok", 0);
    assert_eq!(r["url"], url(port));
    assert_eq!(r["pins"]["set"], "lab");
    assert_eq!(r["pins"]["matched"], true);
    assert_eq!(r["pins"]["matches"][0]["label"], "lab issuing CA");
    assert_eq!(r["http"]["expect_body"], "OK");

    let out = inspect()
        .args(flag("--profile", &profile_path))
        .cacert(&pki.root)
        .resolve(port)
        .args([format!("{HOST}:{port}")])
        .run()
        .await;
    out.assert_code(0);
    assert_in_order(
        &out.stdout,
        &[
            &format!("  pin set    {reason}\n"),
            "\npins\n  set      lab: matched on the public path\n",
            &format!(
                "  matched  sha256/{} on #1 Pinprobe Lab Issuing CA (lab issuing CA)\n",
                pin_base64(pki.inter.der())
            ),
            "\nHTTP\n  answer    200 OK \"OK\"\n  expected  status 200, body \"OK\"\n",
        ],
    );

    // a chain of another PKI saved for that endpoint: the profile's pin set finds the drift
    let other = genuine_pki(&[HOST]);
    let probe = inspect();
    let file = probe.file("other.pem", &s_client_output(&other));
    let out = probe
        .args(flag("--profile", &profile_path))
        .args(flag("--file", &file))
        .cacert(&other.root)
        .args([url(port)])
        .json()
        .run()
        .await;
    out.assert_code(1);
    let doc = out.json();
    assert_verdict(&doc["inspect"], "pin-mismatch", 90);
    assert_eq!(doc["inspect"]["pins"]["set"], "lab");
    assert!(
        text_of(&doc["pinset_reason"]).starts_with("lab, from endpoint"),
        "{doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_repeats_its_intermediate_a_thousand_times_is_analysed() {
    let pki = genuine_pki(&[HOST]);
    let probe = inspect();
    let mut pem = pki.leaf.pem();
    // as many copies as the 1 MiB a chain file may hold allows
    for _ in 1..1_000 {
        pem.push_str(&pki.inter.pem());
    }
    let file = probe.file("repeated.pem", &pem);
    let out = probe
        .args(flag("--file", &file))
        .cacert(&pki.root)
        .args([format!("https://{HOST}/")])
        .json()
        .run()
        .await;
    out.assert_code(0);
    let doc = out.json();
    let r = &doc["inspect"];
    assert_verdict(r, "ok", 0);
    assert_eq!(r["chain"].as_array().map(Vec::len), Some(1_000));
    // the path goes through the first copy of the intermediate
    assert_eq!(r["trust"]["public"]["path"], serde_json::json!([0, 1]));
}
