//! Several reports of one run, and what they say about it: text, JSON, NDJSON and JUnit written
//! at once agree with each other and with the exit status (skipped lines of `--targets`
//! included), `--fail-on` fails a run on the warnings it names only, a passing JUnit testcase
//! carries its warnings and the anchor's expiry, and `--format summary` gives the line a fleet
//! inventory stores.

use pinprobe::lab::{Ca, KeyKind, LeafSpec};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus, TestSuite};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::support::*;

/// The one testsuite of a JUnit file.
fn suite(path: &std::path::Path) -> TestSuite {
    let xml = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut report = Report::deserialize_from_str(&xml)
        .unwrap_or_else(|e| panic!("JUnit does not parse ({e}):\n{xml}"));
    assert_eq!(report.test_suites.len(), 1, "{xml}");
    report.test_suites.remove(0)
}

/// The value of the property `name` of a testsuite or testcase.
fn property<'a>(properties: &'a [quick_junit::Property], name: &str) -> Option<&'a str> {
    properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.value.as_str())
}

fn json_file(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_targets_file_with_two_bad_lines_fails_in_every_report_as_in_the_exit_status() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let base = url(server.port());
    let probe = Probe::new();
    probe.file(
        "targets.txt",
        &format!("{base}\nftp://{HOST}/\n{base}/two\nnot a url at all\n"),
    );
    // the paths as given, relative to the run's directory: the reports name them so
    let out = probe
        .cacert(&pki.root)
        .resolve(server.port())
        .args(["--targets", "targets.txt", "--json", "report.json"])
        .args(["--junit", "report.xml", "--ndjson", "report.ndjson"])
        .run()
        .await;
    out.assert_code(1);
    let dir = out.dir().to_path_buf();

    // text: both endpoints are ok, and the summary says why the run fails anyway
    assert!(
        out.stdout.contains("\n2 of 2 endpoints ok\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "\n2 lines of --targets skipped (targets.txt:2, targets.txt:4): they fail the run\n"
        ),
        "{}",
        out.stdout
    );

    // JSON: the same counts, and the rule that failed the run
    let doc = json_file(&dir.join("report.json"));
    let summary = &doc["summary"];
    assert_eq!(
        (&summary["ok"], &summary["failed"], &summary["skipped"]),
        (&Value::from(2), &Value::from(0), &Value::from(2)),
        "{summary:#}"
    );
    assert_eq!(summary["passed"], false, "{summary:#}");
    assert_eq!(
        summary["failed_by"][0]["rule"], "skipped-line",
        "{summary:#}"
    );
    assert_eq!(summary["failed_by"][0]["count"], 2, "{summary:#}");
    assert_eq!(summary["failed_by"].as_array().map(Vec::len), Some(1));

    // JUnit: an error testcase per skipped line, naming the file and the line
    let suite = suite(&dir.join("report.xml"));
    assert_eq!(
        (suite.tests, suite.failures, suite.errors),
        (4, 0, 2),
        "{suite:#?}"
    );
    let errors: Vec<(&str, Option<&str>)> = suite
        .test_cases
        .iter()
        .filter_map(|c| match &c.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Error,
                message,
                ..
            } => Some((c.name.as_str(), message.as_ref().map(|m| m.as_str()))),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "targets.txt:2");
    assert!(
        errors[0].1.is_some_and(|m| m.starts_with("line skipped: ")),
        "{errors:?}"
    );
    assert_eq!(errors[1].0, "targets.txt:4");
    assert_eq!(property(&suite.properties, "passed"), Some("false"));
    assert_eq!(
        property(&suite.properties, "failed_by"),
        Some("2 lines of --targets skipped")
    );

    // NDJSON: the results only; the exit status is the authority on the run
    let lines = std::fs::read_to_string(dir.join("report.ndjson")).expect("NDJSON file");
    assert_eq!(lines.lines().count(), 2, "{lines}");
    // stdout carried the text report: no summary line on standard error
    assert!(!out.stderr.contains("exit status"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_run_writes_text_json_and_junit_that_agree() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let closed = pinprobe::lab::closed_port().expect("closed port");
    let probe = Probe::new();
    let json = probe.file("x", "").with_file_name("run.json");
    let junit = json.with_file_name("run.xml");
    let ndjson = json.with_file_name("run.ndjson");
    let refused = format!("https://127.0.0.1:{closed}/");
    let out = probe
        .cacert(&pki.root)
        .resolve(server.port())
        .args([
            url(server.port()),
            refused.clone(),
            format!("{}/second", url(server.port())),
        ])
        .args(flag("--json", &json))
        .args(flag("--junit", &junit))
        .args(flag("--ndjson", &ndjson))
        .run()
        .await;
    out.assert_code(1);
    // the text report keeps the order of the endpoints, though NDJSON asked for completion order
    let tested: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("Testing connection with "))
        .collect();
    assert_eq!(tested.len(), 3, "{}", out.stdout);
    assert!(tested[0].ends_with("/ping ... [OK]"), "{tested:?}");
    assert!(
        tested[1].contains(&refused) && tested[1].contains("[ERROR] connect-failed"),
        "{tested:?}"
    );
    assert!(tested[2].ends_with("/second ... [OK]"), "{tested:?}");
    assert!(out.stdout.contains("\n1 of 3 endpoints failed (2 ok)\n"));

    let doc = json_file(&json);
    let urls: Vec<&str> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["url"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        urls,
        [
            url(server.port()),
            refused.clone(),
            format!("{}/second", url(server.port()))
        ]
    );
    assert_eq!(doc["summary"]["failed"], 1);
    assert_eq!(doc["summary"]["passed"], false);
    assert_eq!(doc["summary"]["failed_by"][0]["rule"], "verdict");
    assert_eq!(
        doc["summary"]["failed_by"][0]["detail"],
        "connect-failed on 1"
    );

    let suite = suite(&junit);
    assert_eq!((suite.tests, suite.failures, suite.errors), (3, 1, 0));
    assert_eq!(
        property(&suite.properties, "failed_by"),
        Some("connect-failed on 1")
    );
    let ndjson = std::fs::read_to_string(&ndjson).expect("NDJSON file");
    assert_eq!(ndjson.lines().count(), 3, "{ndjson}");

    // the files exist already: refused, all of them, before anything is probed
    let again = Probe::new()
        .resolve(server.port())
        .args([url(server.port())])
        .args(flag("--json", &json))
        .args(flag("--junit", &junit))
        .run()
        .await;
    again.assert_code(2);
    assert!(
        again.stderr.contains("exists: give --force to replace it"),
        "{}",
        again.stderr
    );
    // two reports in one file are refused, naming both flags
    let same = Probe::new()
        .args([url(server.port())])
        .args([
            "--format",
            "json",
            "-o",
            "same.json",
            "--junit",
            "same.json",
        ])
        .run()
        .await;
    same.assert_code(2);
    assert!(
        same.stderr
            .contains("--junit: same.json is the file of -o too: give each report its own file"),
        "{}",
        same.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_text_report_on_standard_output_a_summary_line_goes_to_standard_error() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let run = |extra: &'static [&'static str]| {
        Probe::new()
            .cacert(&pki.root)
            .endpoint(server.port())
            .args(extra.iter().copied())
            .run()
    };
    let json = run(&["--format", "json"]).await;
    json.assert_code(0);
    assert_eq!(json.stderr, "pinprobe: ok 1; exit status 0\n");
    let to_file = run(&["-o", "report.txt"]).await;
    to_file.assert_code(0);
    assert_eq!(
        to_file.stderr,
        "pinprobe: ok 1; exit status 0; reports in report.txt\n"
    );
    assert!(to_file.stdout.is_empty(), "{}", to_file.stdout);
    // -q keeps it quiet; the text report and the summary line say it themselves
    for quiet in [
        &["--format", "json", "-q"][..],
        &[],
        &["--format", "summary"],
    ] {
        let out = run(quiet).await;
        assert!(
            !out.stderr.contains("exit status"),
            "{quiet:?}: {}",
            out.stderr
        );
    }
}

/// A profile of two endpoints on lab.test: `soon` (no pin set) and `drift` (a set that still
/// matches on the intermediate, with a stale leaf pin).
fn soon_and_drift(soon: u16, drift: u16, stale_leaf: &str, intermediate: &str) -> String {
    format!(
        "[pinsets.drifting]\npins = [\n  {{ pin = \"sha256/{stale_leaf}\", label = \"leaf: lab.test\" }},\n  {{ pin = \"sha256/{intermediate}\", label = \"intermediate: Pinprobe Lab Issuing CA\" }},\n]\n\n\
         [[endpoints]]\nurl = \"{}\"\n\n[[endpoints]]\nurl = \"{}\"\npinset = \"drifting\"\n",
        url(soon),
        url(drift)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_pin_drift_passes_an_expiry_warning_and_fails_on_drift() {
    // one service whose leaf expires in 10 days, one whose leaf key rotated under a set that
    // still matches on the intermediate
    let soon_spec = LeafSpec {
        not_after: OffsetDateTime::now_utc() + Duration::days(10),
        ..LeafSpec::new([HOST])
    };
    let expiring = Pki::with_spec(KeyKind::EcdsaP256, &soon_spec).expect("lab pki");
    let soon = serve(&expiring.leaf, http(200, "OK")).await;
    let rotated = genuine_pki(&[HOST]);
    let old = rotated
        .inter
        .leaf(&LeafSpec::new([HOST]))
        .expect("old leaf");
    let drift = serve(&rotated.leaf, http(200, "OK")).await;
    let profile = soon_and_drift(
        soon.port(),
        drift.port(),
        &pin_base64(&old.cert),
        &pin_base64(rotated.inter.der()),
    );
    let only_soon = format!("[[endpoints]]\nurl = \"{}\"\n", url(soon.port()));
    let run = |toml: String, extra: &'static [&'static str]| {
        Probe::new()
            .profile(&toml)
            .cacert(&expiring.root)
            .cacert(&rotated.root)
            .resolve(soon.port())
            .resolve(drift.port())
            .args(extra.iter().copied())
            .run()
    };

    // the expiry alone passes under --fail-on pin-drift...
    let out = run(only_soon.clone(), &["--fail-on", "pin-drift"]).await;
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("\n1 with warnings (--fail-on pin-drift: none of them fails the run)\n"),
        "{}",
        out.stdout
    );
    // ... and fails under --fail-on warning, as it always did, or when named
    run(only_soon.clone(), &["--fail-on", "warning"])
        .await
        .assert_code(1);
    run(only_soon.clone(), &["--fail-on", "pin-drift,expires-soon"])
        .await
        .assert_code(1);
    // a verdict name adds nothing: verdicts fail the run already, warnings do not
    run(
        only_soon,
        &["--fail-on", "interception", "--fail-on", "http-unexpected"],
    )
    .await
    .assert_code(0);

    // with the drifting service, the same flag fails the run, and every report says why
    let out = run(
        profile.clone(),
        &[
            "--fail-on",
            "pin-drift",
            "--json",
            "drift.json",
            "--junit",
            "drift.xml",
        ],
    )
    .await;
    out.assert_code(1);
    assert!(
        out.stdout.contains(
            "\n2 with warnings (--fail-on pin-drift: pin-drift on 1 fails the run)\n2 of 2 endpoints ok\n"
        ),
        "{}",
        out.stdout
    );
    let doc = json_file(&out.dir().join("drift.json"));
    let summary = &doc["summary"];
    assert_eq!(summary["passed"], false, "{summary:#}");
    assert_eq!(summary["fail_on"], serde_json::json!(["pin-drift"]));
    assert_eq!(summary["failed_by"][0]["rule"], "fail-on", "{summary:#}");
    assert_eq!(
        summary["failed_by"][0]["detail"],
        "--fail-on pin-drift: pin-drift on 1"
    );
    let suite = suite(&out.dir().join("drift.xml"));
    assert_eq!((suite.tests, suite.failures), (2, 1), "{suite:#?}");
    assert!(
        matches!(suite.test_cases[0].status, TestCaseStatus::Success { .. }),
        "the expiring service passes: {:?}",
        suite.test_cases[0].status
    );
    match &suite.test_cases[1].status {
        TestCaseStatus::NonSuccess {
            message,
            ty,
            description,
            ..
        } => {
            assert_eq!(
                message.as_ref().map(|m| m.as_str()),
                Some("warnings: pin-drift")
            );
            assert_eq!(ty.as_ref().map(|t| t.as_str()), Some("warning"));
            let description = description.as_ref().map(|d| d.as_str()).unwrap_or("");
            assert!(
                description.starts_with("failed by --fail-on pin-drift\n"),
                "{description}"
            );
        }
        other => panic!("the drifting service fails: {other:?}"),
    }
    assert_eq!(property(&suite.properties, "fail_on"), Some("pin-drift"));
    assert_eq!(
        property(&suite.properties, "failed_by"),
        Some("--fail-on pin-drift: pin-drift on 1")
    );

    // an unknown name is a usage error naming the flag and the names
    let out = run(profile, &["--fail-on", "pin-drift,drift"]).await;
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("invalid value 'drift' for '--fail-on <WHAT>'")
            && out.stderr.contains("pin-drift, expires-soon, weak-crypto"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passing_junit_testcase_carries_its_warnings_and_the_anchor_expiry() {
    let spec = LeafSpec {
        not_after: OffsetDateTime::now_utc() + Duration::days(10),
        ..LeafSpec::new([HOST])
    };
    let pki = Pki::with_spec(KeyKind::EcdsaP256, &spec).expect("lab pki");
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(server.port())
        .args(["--format", "junit", "--json", "run.json"])
        .run()
        .await;
    out.assert_code(0);
    let report = Report::deserialize_from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("JUnit does not parse ({e}):\n{}", out.stdout));
    let case = &report.test_suites[0].test_cases[0];
    assert!(
        matches!(case.status, TestCaseStatus::Success { .. }),
        "{:?}",
        case.status
    );
    let system_out = case.system_out.as_ref().map(|s| s.as_str()).unwrap_or("");
    assert!(
        system_out.starts_with("warning expires-soon: #0 lab.test expires in "),
        "{system_out}"
    );
    let warning = property(&case.properties, "warning expires-soon").unwrap_or("");
    assert!(warning.starts_with("#0 lab.test expires in "), "{warning}");
    // the anchor's expiry is the one of the anchor the verified path reached, as JSON says
    let doc = json_file(&out.dir().join("run.json"));
    let anchor = &doc["results"][0]["trust"]["public"]["anchor"];
    let name = format!(
        "expires anchor {}",
        text(&anchor["subject"], "anchor subject")
    );
    assert_eq!(
        property(&case.properties, &name),
        anchor["not_after"].as_str(),
        "{:?}",
        case.properties
    );
    assert_eq!(
        property(&report.test_suites[0].properties, "passed"),
        Some("true")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_summary_line_names_the_worst_verdict_first_with_its_vendor() {
    let pki = genuine_pki(&[HOST]);
    let ok = serve(&pki.leaf, http(200, "OK")).await;
    let zscaler = Ca::root("Zscaler Root CA", "Zscaler Inc.", KeyKind::EcdsaP256).expect("CA");
    let forged = zscaler.leaf(&LeafSpec::new([HOST])).expect("forged leaf");
    let intercepted = serve(&forged, http(200, "OK")).await;
    let closed = pinprobe::lab::closed_port().expect("closed port");
    let probe = Probe::new();
    probe.file(
        "fleet.txt",
        &format!(
            "{}\n{}\n{}/again\nhttps://127.0.0.1:{closed}/\nnot a url\n",
            url(intercepted.port()),
            url(ok.port()),
            url(ok.port())
        ),
    );
    let out = probe
        .cacert(&pki.root)
        .resolve(ok.port())
        .resolve(intercepted.port())
        .args(["--targets", "fleet.txt", "--format", "summary", "-q"])
        .run()
        .await;
    out.assert_code(1);
    assert_eq!(
        out.stdout,
        "ssl-interception (Zscaler) on 1/4; connect-failed on 1/4; ok 2; 1 line of --targets skipped\n"
    );
    // the line said it all: standard error has only the skipped line
    assert!(!out.stderr.contains("exit status"), "{}", out.stderr);
}
