//! `pinprobe demo`: the built binary runs its lab and every scenario gives its verdict.
//!
//! The child gets an OS store of its own (`SSL_CERT_FILE`, `SSL_CERT_DIR` in a temporary
//! directory) holding a CA that has nothing to do with the demo, to show that the demo's
//! verdicts come from its lab stand-ins and not from the machine's store.

use std::collections::BTreeSet;

use crate::support::*;
use pinprobe::demo::{Backend, Via, SCENARIOS};
use pinprobe::lab::{Ca, KeyKind};
use pinprobe::verdict::Verdict;

/// A run of `pinprobe demo ARGS` with a store the demo must not read.
async fn demo(args: &[&str]) -> Outcome {
    let stranger = Ca::root("Unrelated Root", "Elsewhere", KeyKind::EcdsaP256).expect("root");
    Probe::new()
        .os_trusts(&stranger)
        .args(["demo"])
        .args(args.iter().copied())
        .run()
        .await
}

/// What the report line of a scenario shows after the URL.
fn mark(verdict: Verdict) -> String {
    if verdict == Verdict::Ok {
        "[OK]".into()
    } else {
        format!("[ERROR] {verdict} (curl {})", verdict.curl_code())
    }
}

#[test]
fn the_scenarios_cover_the_verdicts_the_guide_talks_about() {
    let verdicts: BTreeSet<Verdict> = SCENARIOS.iter().map(|s| s.expected).collect();
    for v in [
        Verdict::Ok,
        Verdict::SslInterception,
        Verdict::HandshakeFailed,
        Verdict::PinMismatch,
    ] {
        assert!(verdicts.contains(&v), "no scenario expects {v}");
    }
    assert!(SCENARIOS
        .iter()
        .any(|s| s.backend == Backend::NamedInterceptor));
    assert!(SCENARIOS.iter().all(|s| s.url.starts_with("https://")
        && s.url.contains(".microsoft.com/")
        && !s.answered_by.is_empty()));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_shows_every_verdict_and_exits_0() {
    let (text, verbose) = tokio::join!(demo(&[]), demo(&["-v"]));
    text.assert_code(0);
    let out = &text.stdout;
    assert!(out.starts_with("SIMULATION: pinprobe demo\n"), "{out}");
    assert!(out.contains("127.0.0.1"), "{out}");
    assert!(out.contains("no traffic leaves the machine"), "{out}");
    assert!(out.contains("lab stand-ins"), "{out}");
    // the scenarios are the Defender endpoints: the advice is the bundled profile's, the guide's
    assert!(
        out.contains("What to do: the proxy asks for credentials; Defender for Endpoint does not support authenticated proxies"),
        "{out}"
    );

    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("Testing connection with "))
        .collect();
    assert_eq!(lines.len(), SCENARIOS.len(), "{out}");
    for (line, s) in lines.iter().zip(SCENARIOS) {
        let shown = match s.via {
            Via::Direct => format!("Testing connection with {} ", s.url),
            Via::Proxy | Via::AuthenticatingProxy => {
                format!("Testing connection with {} (via http://127.0.0.1:", s.url)
            }
        };
        let (head, rest) = line.split_once(" ... ").unwrap_or((line, ""));
        assert!(
            format!("{head} ").starts_with(&shown),
            "{line}\nexpected {shown}"
        );
        assert!(rest.starts_with(&mark(s.expected)), "{line}");
        if s.backend == Backend::NamedInterceptor {
            assert!(line.contains("Zscaler"), "{line}");
        }
        assert!(
            out.contains(&format!(
                "  {}: expected {}, got {}: ok\n",
                s.url, s.expected, s.expected
            )),
            "no check line for {}:\n{out}",
            s.url
        );
    }
    assert!(
        out.trim_end().ends_with(&format!(
            "SIMULATION: all {} scenarios gave their expected verdict",
            SCENARIOS.len()
        )),
        "{out}"
    );
    assert!(!out.contains("MISMATCH"), "{out}");

    verbose.assert_code(0);
    assert!(verbose.stdout.contains("chain, 2 certificates as sent:"));
    assert!(verbose
        .stdout
        .contains("anchor CN=Pinprobe Demo Public Root"));
    assert!(verbose.stdout.contains("demo OS store (simulation)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_json_is_one_document_whose_scenarios_all_match() {
    let run = demo(&["--format", "json"]).await;
    run.assert_code(0);
    let doc = run.json();
    let scenarios = doc["demo"]["scenarios"].as_array().expect("demo.scenarios");
    assert_eq!(scenarios.len(), SCENARIOS.len());
    assert_eq!(doc["demo"]["simulation"], true);
    assert_eq!(doc["demo"]["mismatches"], 0);
    let results = run.results();
    assert_eq!(results.len(), SCENARIOS.len());
    for ((got, s), result) in scenarios.iter().zip(SCENARIOS).zip(&results) {
        assert_eq!(got["url"], s.url);
        assert_eq!(got["expected"], s.expected.code());
        assert_eq!(got["got"], got["expected"], "{got:#}");
        assert_eq!(got["ok"], true);
        assert!(
            text(&got["server"], "server").starts_with("127.0.0.1:"),
            "{got:#}"
        );
        assert_eq!(result["url"], s.url);
        assert_verdict(result, s.expected.code(), s.expected.curl_code().into());
    }
    let named = SCENARIOS
        .iter()
        .position(|s| s.backend == Backend::NamedInterceptor)
        .expect("a named interceptor scenario");
    assert_eq!(results[named]["interception"]["vendor"], "Zscaler");
    let rotated = SCENARIOS
        .iter()
        .position(|s| s.backend == Backend::RotatedKey)
        .expect("a rotated key scenario");
    assert_eq!(
        results[rotated]["drift"]["change"], "leaf-rotation",
        "{:#}",
        results[rotated]["drift"]
    );
    assert_eq!(doc["summary"]["total"], SCENARIOS.len());
}
