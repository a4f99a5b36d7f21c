//! What CI jobs rely on: drift reports that name the position that changed and print the pins
//! a chain needs, expiry warnings that can fail the run, JUnit and NDJSON reports.

use pinprobe::lab::{Ca, KeyKind, LeafSpec};
use quick_junit::{Report, TestCaseStatus};
use time::{Duration, OffsetDateTime};

use crate::support::*;

/// A profile with one endpoint on `port` and a pin set made of `pins` (pin, label).
fn profile(port: u16, pins: &[(String, &str)]) -> String {
    let mut toml = String::from("[pinsets.svc]\npins = [\n");
    for (pin, label) in pins {
        toml.push_str(&format!(
            "  {{ pin = \"sha256/{pin}\", label = \"{label}\" }},\n"
        ));
    }
    toml.push_str(&format!(
        "]\n\n[[endpoints]]\nurl = \"{}\"\npinset = \"svc\"\n",
        url(port)
    ));
    toml
}

#[tokio::test(flavor = "multi_thread")]
async fn leaf_rotation_under_a_leaf_pin_is_reported_with_the_pins_to_paste() {
    let pki = genuine_pki(&[HOST]);
    let old = pki.inter.leaf(&LeafSpec::new([HOST])).expect("old leaf");
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let toml = profile(
        server.port(),
        &[(pin_base64(&old.cert), "leaf: lab.test before the rotation")],
    );

    let out = Probe::new()
        .profile(&toml)
        .cacert(&pki.root)
        .resolve(server.port())
        .run()
        .await;
    out.assert_code(1);
    assert!(
        out.stdout.contains("[ERROR] pin-mismatch (curl 90)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("drift: the leaf key changed (the usual rotation)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("pins this chain needs (okhttp):"));
    let new_leaf = format!("sha256/{}", pin_base64(&pki.leaf.cert));
    // for the endpoint's host, not the set's name: OkHttp pins only the hosts given to add()
    let add = format!(".add(\"{HOST}\", \"{new_leaf}\")");
    assert!(out.stdout.contains(&add), "{}", out.stdout);

    let out = Probe::new()
        .profile(&toml)
        .cacert(&pki.root)
        .resolve(server.port())
        .args(["--pin-format", "android"])
        .run()
        .await;
    let domain = format!("<domain>{HOST}</domain>");
    assert!(
        out.stdout.contains(&domain) && !out.stdout.contains("<domain>svc</domain>"),
        "{}",
        out.stdout
    );

    let out = Probe::new()
        .profile(&toml)
        .cacert(&pki.root)
        .resolve(server.port())
        .args(["--pin-format", "curl", "--format", "json"])
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "pin-mismatch", 90);
    assert_eq!(r["drift"]["change"], "leaf-rotation", "{:#}", r["drift"]);
    assert_eq!(r["drift"]["stale"][0]["role"], "leaf");
    assert_eq!(r["drift"]["new"][0]["role"], "leaf");
    assert_eq!(r["drift"]["needed"].as_array().map(Vec::len), Some(3));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ca_change_names_the_intermediate_and_anchor() {
    let before = genuine_pki(&[HOST]);
    let after = genuine_pki(&[HOST]);
    let server = serve(&after.leaf, http(200, "OK")).await;
    let toml = profile(
        server.port(),
        &[
            (pin_base64(&before.leaf.cert), "leaf: lab.test"),
            (
                pin_base64(before.inter.der()),
                "intermediate: Pinprobe Lab Issuing CA",
            ),
            (
                pin_base64(before.root.der()),
                "anchor: Pinprobe Lab Root CA",
            ),
        ],
    );
    let out = Probe::new()
        .profile(&toml)
        .cacert(&after.root)
        .resolve(server.port())
        .args(["--pin-format", "hpkp"])
        .run()
        .await;
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("the leaf and intermediate and anchor changed (a CA change)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("pins this chain needs (hpkp):"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&pin_base64(after.inter.der())),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_that_still_matches_after_a_rotation_warns_of_drift() {
    let pki = genuine_pki(&[HOST]);
    let old = pki.inter.leaf(&LeafSpec::new([HOST])).expect("old leaf");
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let toml = profile(
        server.port(),
        &[
            (pin_base64(&old.cert), "leaf: lab.test"),
            (
                pin_base64(pki.inter.der()),
                "intermediate: Pinprobe Lab Issuing CA",
            ),
        ],
    );
    let run = |extra: &'static [&'static str]| {
        Probe::new()
            .profile(&toml)
            .cacert(&pki.root)
            .resolve(server.port())
            .args(extra.iter().copied())
            .json()
            .run()
    };
    let out = run(&[]).await;
    out.assert_code(0);
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    assert_eq!(
        r["warnings"][0]["warning"], "pin-drift",
        "{:#}",
        r["warnings"]
    );
    assert_eq!(r["drift"]["matched"], true);
    run(&["--fail-on", "warning"]).await.assert_code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_expiring_in_ten_days_warns_and_can_fail_the_run() {
    let spec = LeafSpec {
        not_after: OffsetDateTime::now_utc() + Duration::days(10),
        ..LeafSpec::new([HOST])
    };
    let pki = Pki::with_spec(KeyKind::EcdsaP256, &spec).expect("lab pki");
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let run = |extra: &'static [&'static str]| {
        Probe::new()
            .cacert(&pki.root)
            .endpoint(server.port())
            .args(extra.iter().copied())
            .json()
            .run()
    };
    let out = run(&[]).await;
    out.assert_code(0);
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    let w = &r["warnings"][0];
    assert_eq!(w["warning"], "expires-soon", "{:#}", r["warnings"]);
    let detail = text(&w["detail"], "warning");
    assert!(
        detail.contains("expires in 9 days") || detail.contains("expires in 10 days"),
        "{detail}"
    );
    assert_eq!(out.json()["summary"]["warned"], 1);

    run(&["--fail-on", "warning"]).await.assert_code(1);
    let quiet = run(&["--warn-days", "5"]).await;
    quiet.assert_code(0);
    assert!(quiet.result()["warnings"]
        .as_array()
        .is_some_and(Vec::is_empty));
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_has_one_testcase_per_endpoint_and_the_failure_message() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let stranger = Ca::root("Stranger", "Elsewhere", KeyKind::EcdsaP256).expect("CA");
    let toml = format!(
        "[pinsets.svc]\npins = [\"sha256/{}\"]\n\n[pinsets.other]\npins = [\"sha256/{}\"]\n\n\
         [[endpoints]]\nurl = \"{u}\"\npinset = \"svc\"\n\n[[endpoints]]\nurl = \"{u}\"\npinset = \"other\"\n",
        pin_base64(pki.root.der()),
        pin_base64(stranger.der()),
        u = url(server.port())
    );
    let out = Probe::new()
        .profile(&toml)
        .cacert(&pki.root)
        .resolve(server.port())
        .args(["--format", "junit"])
        .run()
        .await;
    out.assert_code(1);
    let report = Report::deserialize_from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("JUnit does not parse ({e}):\n{}", out.stdout));
    assert_eq!(report.test_suites.len(), 1);
    let suite = &report.test_suites[0];
    assert_eq!(suite.test_cases.len(), 2);
    assert_eq!((suite.tests, suite.failures), (2, 1));
    assert!(matches!(
        suite.test_cases[0].status,
        TestCaseStatus::Success { .. }
    ));
    match &suite.test_cases[1].status {
        TestCaseStatus::NonSuccess {
            message,
            description,
            ..
        } => {
            let message = message.as_ref().map(|m| m.as_str()).unwrap_or_default();
            assert!(message.starts_with("pin-mismatch (curl 90): "), "{message}");
            let description = description.as_ref().map(|d| d.as_str()).unwrap_or_default();
            assert!(description.contains("drift: "), "{description}");
            assert!(description.contains("needed sha256/"), "{description}");
        }
        other => panic!("the second endpoint should fail: {other:?}"),
    }
    let properties: Vec<(&str, &str)> = suite.test_cases[0]
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert!(properties.contains(&("verdict", "ok")), "{properties:?}");
    assert!(
        properties
            .iter()
            .any(|(n, v)| n.starts_with("pin ") && v.starts_with("sha256/")),
        "{properties:?}"
    );
    assert!(
        properties.iter().any(|(n, _)| n.starts_with("expires #0")),
        "{properties:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ndjson_writes_one_result_per_line_as_each_finishes() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let closed = pinprobe::lab::closed_port().expect("closed port");
    let out = Probe::new()
        .cacert(&pki.root)
        .resolve(server.port())
        .args([
            "--format".to_string(),
            "ndjson".to_string(),
            url(server.port()),
            format!("https://127.0.0.1:{closed}/"),
            format!("{}/second", url(server.port())),
        ])
        .run()
        .await;
    out.assert_code(1);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    // in the order they finished: every endpoint once, with its own verdict
    let mut got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["url"].as_str().unwrap_or_default().to_string(),
                l["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut expected = vec![
        (url(server.port()), "ok".to_string()),
        (
            format!("https://127.0.0.1:{closed}/"),
            "connect-failed".to_string(),
        ),
        (format!("{}/second", url(server.port())), "ok".to_string()),
    ];
    expected.sort();
    assert_eq!(got, expected);
}
