//! `--pinnedpubkey` against curl's own: the real `curl` and pinprobe are given the same string
//! (or key file) and the same lab server on 127.0.0.1, and must take the same decision on a
//! leaf pin: both accept, or curl exits 90 and pinprobe says `pin-mismatch` with curl code 90.
//! The one difference is checked too: a pin of the intermediate satisfies pinprobe, which
//! matches the whole verified path, and not curl, which compares the leaf alone.
//!
//! Without curl the test is skipped, unless `PINPROBE_REQUIRE_CURL=1` (set by `.ci/run`)
//! makes a missing curl a failure.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pinprobe::lab::PROXY_VARS;

use crate::support::*;

fn required() -> bool {
    std::env::var("PINPROBE_REQUIRE_CURL").is_ok_and(|v| v == "1")
}

/// True when curl runs; a note on standard error (or a failure, when required) otherwise.
fn curl_installed() -> bool {
    let runs = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !runs {
        assert!(
            !required(),
            "PINPROBE_REQUIRE_CURL=1 but curl is not installed: apt-get install curl"
        );
        let _ = writeln!(
            std::io::stderr(),
            "curl is not installed: skipping (set PINPROBE_REQUIRE_CURL=1 to fail instead)"
        );
    }
    runs
}

/// curl's exit status for `https://HOST:PORT/ping` with `--cacert root` and `--pinnedpubkey
/// value`, no configuration file and no proxy.
async fn curl(port: u16, root: PathBuf, value: String) -> i32 {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new("curl");
        // -q first: no .curlrc
        command
            .args(["-q", "--silent", "--show-error", "--output", "/dev/null"])
            .args(["--max-time", "20", "--noproxy", "*"])
            .arg("--cacert")
            .arg(&root)
            .args(["--resolve", &format!("{HOST}:{port}:127.0.0.1")])
            .args(["--pinnedpubkey", &value])
            .arg(url(port))
            .stdin(Stdio::null());
        for var in PROXY_VARS {
            command.env_remove(var);
        }
        let out = command.output().expect("curl runs");
        out.status.code().expect("curl exits with a status")
    })
    .await
    .expect("curl's runner does not panic")
}

/// pinprobe's verdict and curl code for the same endpoint and value.
async fn pinprobe(pki: &Pki, port: u16, value: &str) -> (String, u64) {
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(port)
        .args(["--pinnedpubkey", value])
        .json()
        .run()
        .await;
    let result = out.result();
    let verdict = text(&result["verdict"], "verdict").to_string();
    let code = result["curl_code"].as_u64().expect("curl_code");
    out.assert_code(if verdict == "ok" { 0 } else { 1 });
    assert_eq!(result["pins"]["set"], "pinnedpubkey", "{result:#}");
    (verdict, code)
}

/// A PEM file holding the public key of `cert`.
fn key_file(dir: &Path, name: &str, cert: &rustls::pki_types::CertificateDer<'_>) -> String {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).expect("certificate");
    let spki = parsed.tbs_certificate.subject_pki.raw.to_vec();
    let path = dir.join(name);
    std::fs::write(&path, pem::encode(&pem::Pem::new("PUBLIC KEY", spki))).expect("key file");
    path.to_str().expect("UTF-8 path").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_pinnedpubkey_gives_curls_decision_on_a_leaf_pin() {
    if !curl_installed() {
        return;
    }
    let pki = genuine_pki(&[HOST]);
    let other = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let port = server.port();
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("root.pem");
    std::fs::write(&root, pki.root.pem()).expect("root");
    let leaf = format!("sha256//{}", pin_base64(&pki.leaf.cert));
    let stranger = format!("sha256//{}", unrelated_pin("not this server's key"));

    // (what is given, whether curl accepts it)
    let cases = [
        (leaf.clone(), true),
        (stranger.clone(), false),
        (format!("{stranger};{leaf}"), true),
        (format!("{stranger};{stranger}"), false),
        (key_file(dir.path(), "leaf.pem", &pki.leaf.cert), true),
        (key_file(dir.path(), "other.pem", &other.leaf.cert), false),
    ];
    for (value, accepted) in cases {
        let curl_code = curl(port, root.clone(), value.clone()).await;
        let (verdict, code) = pinprobe(&pki, port, &value).await;
        let want = if accepted {
            (0, "ok", 0)
        } else {
            (90, "pin-mismatch", 90)
        };
        assert_eq!(
            (curl_code, verdict.as_str(), code),
            want,
            "curl exit status, pinprobe's verdict and curl code for --pinnedpubkey {value}"
        );
    }

    // the difference: the intermediate is on the verified path, and curl looks at the leaf only
    let intermediate = format!("sha256//{}", pin_base64(pki.inter.der()));
    assert_eq!(curl(port, root.clone(), intermediate.clone()).await, 90);
    assert_eq!(
        pinprobe(&pki, port, &intermediate).await,
        ("ok".to_string(), 0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_pinnedpubkey_is_a_usage_error_naming_the_entry() {
    let good = format!("sha256//{}", unrelated_pin("a"));
    for (value, named) in [
        (format!("{good};sha256//AAAA"), "entry 2 \"sha256//AAAA\""),
        (format!("{good};"), "entry 2 \"\" is empty"),
        (
            format!("sha256/{}", unrelated_pin("a")),
            "(two slashes), separated by ';'",
        ),
    ] {
        let out = Probe::new()
            .args(["--pinnedpubkey", &value, "https://lab.test/"])
            .run()
            .await;
        out.assert_code(2);
        assert!(
            out.stderr.starts_with("pinprobe: error: --pinnedpubkey: ")
                && out.stderr.contains(named),
            "{value}: {}",
            out.stderr
        );
    }
    let out = Probe::new()
        .args([
            "--pinnedpubkey",
            &good,
            "--pinset",
            "x",
            "https://lab.test/",
        ])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("'--pinnedpubkey <PINS|FILE>' cannot be used with '--pinset <NAME>'"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pinnedpubkey_pins_the_targets_too() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let probe = Probe::new();
    let targets = probe.file("targets.txt", &format!("{}\n", url(server.port())));
    let out = probe
        .cacert(&pki.root)
        .resolve(server.port())
        .args(flag("--targets", &targets))
        .args([
            "--pinnedpubkey".to_string(),
            format!("sha256//{}", unrelated_pin("a")),
        ])
        .json()
        .run()
        .await;
    out.assert_code(1);
    let result = out.result();
    assert_verdict(&result, "pin-mismatch", 90);
    assert_eq!(result["pins"]["set"], "pinnedpubkey");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spare_pinnedpubkey_beside_the_leaf_is_no_drift() {
    // curl passes when any pin of the list matches: a spare key kept beside the leaf's is the
    // usual setup, not a pin gone stale
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&pki.root)
        .resolve(server.port())
        .args([
            "--fail-on".to_string(),
            "pin-drift".to_string(),
            "--pinnedpubkey".to_string(),
            format!(
                "sha256//{};sha256//{}",
                pin_base64(&pki.leaf.cert),
                unrelated_pin("spare")
            ),
            url(server.port()),
        ])
        .json()
        .run()
        .await;
    out.assert_code(0);
    let result = out.result();
    assert_verdict(&result, "ok", 0);
    assert_eq!(result["warnings"], serde_json::json!([]), "{result:#}");
}
