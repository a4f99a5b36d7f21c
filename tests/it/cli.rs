//! The command line's contract: results in input order, exit status, the text report's
//! shape, `-o`, and configuration errors that name the file and line.

use crate::support::*;
use pinprobe::lab::{Behaviour, Server};

#[tokio::test(flavor = "multi_thread")]
async fn results_keep_input_order_while_a_slow_endpoint_runs() {
    let pki = genuine_pki(&[HOST]);
    let silent = Server::start_raw(Behaviour::Silent).await.expect("server");
    let first_ok = serve(&pki.leaf, http(200, "OK")).await;
    let second_ok = serve(&pki.leaf, http(200, "OK")).await;
    let ports = [silent.port(), first_ok.port(), second_ok.port()];
    let urls: Vec<String> = ports.iter().map(|p| url(*p)).collect();
    let probe = |json: bool| {
        let mut p = Probe::new().cacert(&pki.root).args(["--timeout", "2"]);
        for port in ports {
            p = p.resolve(port);
        }
        if json {
            p = p.json();
        }
        p.args(urls.clone()).run()
    };
    let (json, text) = tokio::join!(probe(true), probe(false));

    json.assert_code(1);
    let results = json.results();
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["url"].as_str().unwrap_or(""),
                r["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (urls[0].as_str(), "timeout"),
            (urls[1].as_str(), "ok"),
            (urls[2].as_str(), "ok"),
        ]
    );
    let summary = &json.json()["summary"];
    assert_eq!(
        (&summary["total"], &summary["ok"], &summary["failed"]),
        (&3.into(), &2.into(), &1.into())
    );

    text.assert_code(1);
    let lines: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.starts_with("Testing connection with "))
        .collect();
    assert_eq!(lines.len(), 3, "{}", text.stdout);
    assert!(
        lines[0].starts_with(&format!(
            "Testing connection with {} ... [ERROR] timeout (curl 28): ",
            urls[0]
        )),
        "{}",
        text.stdout
    );
    assert_eq!(
        lines[1],
        format!("Testing connection with {} ... [OK]", urls[1])
    );
    assert_eq!(
        lines[2],
        format!("Testing connection with {} ... [OK]", urls[2])
    );
}

/// Runs the binary with a profile and expects a configuration error naming `want`.
async fn config_error(profile: &str, want: &[&str]) {
    let probe = Probe::new();
    let path = probe.profile_path().display().to_string();
    let out = probe.profile(profile).json().run().await;
    out.assert_code(2);
    assert!(
        out.stdout.is_empty(),
        "report on a config error: {}",
        out.stdout
    );
    for w in want {
        let w = w.replace("FILE", &path);
        assert!(
            out.stderr.contains(&w),
            "want {w:?} in stderr: {}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_errors_exit_2_naming_file_and_line() {
    let good = unrelated_pin("x");
    config_error(
        "description = \"bad pin\"\n\n[pinsets.a]\npins = [\"sha256/abc\"]\n",
        &["FILE:4:", "not a valid pin"],
    )
    .await;
    config_error(
        &format!("[pinsets.a]\npins = [\"sha256/{good}\"]\n\n[[endpoints]]\nurl = \"https://lab.test/ping\"\npinset = \"b\"\n"),
        &["FILE:6:", "\"b\" is not defined"],
    )
    .await;
    config_error(
        "[[endpoints]]\nurl = \"https://lab.test/ping\"\nexpect_status = \n",
        &["FILE:3:"],
    )
    .await;
    config_error(
        "[[endpoints]]\nurl = \"https://lab.test/ping\"\nexpect_stauts = 200\n",
        &["FILE:3:", "expect_stauts"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn flag_errors_exit_2_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--resolve", "nonsense", "https://lab.test/ping"],
            "--resolve",
        ),
        (&["ftp://x"], "ftp://x"),
        (
            &["--pinset", "nope", "https://lab.test/ping"],
            "--pinset: no pin set is named \"nope\"",
        ),
        (&["--profile", "missing.toml"], "missing.toml"),
    ];
    for (args, want) in cases {
        let out = Probe::new().args(args.iter().copied()).run().await;
        out.assert_code(2);
        assert!(
            out.stderr.starts_with("pinprobe: error: ") && out.stderr.contains(want),
            "{args:?}: want {want:?} in stderr: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn text_report_has_the_guide_shape_details_and_output_file() {
    let pki = genuine_pki(&[HOST]);
    let good = serve(&pki.leaf, http(200, "OK")).await;
    let self_signed = pinprobe::lab::Ca::self_signed_leaf(&pinprobe::lab::LeafSpec::new([HOST]))
        .expect("self-signed leaf");
    let bad = serve(&self_signed, http(200, "OK")).await;
    let run = |verbose: bool| {
        let p = Probe::new()
            .cacert(&pki.root)
            .endpoint(good.port())
            .endpoint(bad.port());
        if verbose { p.args(["-v"]) } else { p }.run()
    };
    let (plain, verbose) = tokio::join!(run(false), run(true));

    plain.assert_code(1);
    let lines: Vec<&str> = plain.stdout.lines().collect();
    assert!(lines[0].starts_with("pinprobe "), "{}", plain.stdout);
    assert!(
        lines.contains(&format!("Testing connection with {} ... [OK]", url(good.port())).as_str()),
        "{}",
        plain.stdout
    );
    let failure = format!(
        "Testing connection with {} ... [ERROR] untrusted-chain (curl 60): ",
        url(bad.port())
    );
    let line = lines
        .iter()
        .find(|l| l.starts_with(&failure))
        .unwrap_or_else(|| panic!("no line {failure:?} in\n{}", plain.stdout));
    assert!(
        line.len() > failure.len(),
        "the failure line has no evidence: {line}"
    );
    assert!(plain.stdout.contains("What to do: "), "{}", plain.stdout);
    assert!(
        !plain.stdout.contains("pin      sha256/"),
        "{}",
        plain.stdout
    );

    verbose.assert_code(1);
    let pin_lines: Vec<&str> = verbose
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("pin      sha256/"))
        .collect();
    // two certificates for the good endpoint, one for the self-signed one
    assert_eq!(pin_lines.len(), 3, "{}", verbose.stdout);
    assert!(
        pin_lines[0].ends_with(&pin_base64(&pki.leaf.cert)),
        "{}",
        verbose.stdout
    );

    // a relative -o path: the child runs in the probe's directory
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(good.port())
        .args(["-o", "report.txt"])
        .run()
        .await;
    let report = out.dir().join("report.txt");
    out.assert_code(0);
    assert!(out.stdout.is_empty(), "stdout with -o: {}", out.stdout);
    let written = std::fs::read_to_string(&report).expect("the -o file");
    assert!(
        written.contains(&format!(
            "Testing connection with {} ... [OK]",
            url(good.port())
        )),
        "{written}"
    );
}

/// Runs the binary and expects a usage error (exit status 2, nothing on standard output) whose
/// message holds each of `want`.
async fn usage_error(args: &[&str], want: &[&str]) -> Outcome {
    let out = Probe::new().args(args.iter().copied()).run().await;
    out.assert_code(2);
    assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    for w in want {
        assert!(
            out.stderr.contains(w),
            "{args:?}: want {w:?} in stderr: {}",
            out.stderr
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn each_subcommand_refuses_the_flags_it_does_not_read() {
    let unexpected = |flag: &'static str| format!("unexpected argument '{flag}' found");
    let cases: &[(&[&str], String)] = &[
        // the flags of a sweep and of test's report mean nothing for one chain
        (
            &["inspect", "--shard", "1/2", "example.com"],
            unexpected("--shard"),
        ),
        (
            &["inspect", "--targets", "t.txt", "example.com"],
            unexpected("--targets"),
        ),
        (
            &["inspect", "--quiet", "example.com"],
            unexpected("--quiet"),
        ),
        (
            &["inspect", "--fail-on", "warning", "example.com"],
            unexpected("--fail-on"),
        ),
        (&["inspect", "-j", "4", "example.com"], unexpected("-j")),
        (
            &["inspect", "--compare-direct", "example.com"],
            unexpected("--compare-direct"),
        ),
        (
            &["inspect", "--pin-format", "hex", "example.com"],
            unexpected("--pin-format"),
        ),
        (&["inspect", "-v", "example.com"], unexpected("-v")),
        (
            &["inspect", "--format", "junit", "example.com"],
            "invalid value 'junit' for '--format <FORMAT>'".into(),
        ),
        // a chain from a file is not reached over the network
        (
            &[
                "inspect",
                "--file",
                "chain.pem",
                "--proxy",
                "http://127.0.0.1:1",
            ],
            "the argument '--file <FILE>' cannot be used with".into(),
        ),
        // pin writes pin sets and a profile, and reports on standard error
        (
            &["pin", "--profile", "p.toml", "example.com"],
            unexpected("--profile"),
        ),
        (
            &["pin", "--pinset", "a", "example.com"],
            unexpected("--pinset"),
        ),
        (
            &["pin", "--format", "json", "example.com"],
            unexpected("--format"),
        ),
        (
            &["pin", "--compare-direct", "example.com"],
            unexpected("--compare-direct"),
        ),
        (
            &["pin", "--warn-days", "9", "example.com"],
            unexpected("--warn-days"),
        ),
        (
            &["pin", "--pac", "p.pac", "example.com"],
            unexpected("--pac"),
        ),
        (&["demo", "--cacert", "ca.pem"], unexpected("--cacert")),
        (
            &["demo", "--format", "ndjson"],
            "invalid value 'ndjson' for '--format <FORMAT>'".into(),
        ),
        (
            &[
                "pins",
                "convert",
                "--from",
                "okhttp",
                "--timeout",
                "3",
                "pins.txt",
            ],
            unexpected("--timeout"),
        ),
    ];
    for (args, want) in cases {
        usage_error(args, &["error: ", want.as_str()]).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_flag_of_test_says_where_it_belongs() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["inspect", "--shard", "1/2", "example.com"],
            "tip: inspect looks at one endpoint; sweeps of many are `pinprobe test`'s",
        ),
        (
            &["inspect", "--compare-direct", "example.com"],
            "tip: inspect looks at one route; run `pinprobe test --compare-direct URL`",
        ),
        (
            &["pin", "--profile", "p.toml", "example.com"],
            "tip: pin writes a profile: to rewrite an existing one, give it with --update FILE",
        ),
        (
            &["pin", "--pinset", "a", "example.com"],
            "tip: pin writes pin sets: to put every endpoint in one set, use --shared-set NAME",
        ),
    ];
    for (args, tip) in cases {
        usage_error(args, &[tip]).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_subcommand_lists_only_its_flags_in_its_help() {
    let sweep = [
        "--targets",
        "--shard",
        "--compare-direct",
        "--quiet",
        "--fail-on",
        "--pin-format",
        "--concurrency",
    ];
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["test", "--help"],
            &[
                "--cacert",
                "--resolve",
                "--pac",
                "--profile",
                "--pinset",
                "--warn-days",
                "--targets",
                "--shard",
                "--fail-on",
                "--verbose",
                "ndjson",
                "junit",
            ],
            &[],
        ),
        (
            &["inspect", "--help"],
            &[
                "--file",
                "--cacert",
                "--resolve",
                "--timeout",
                "--pac",
                "--profile",
                "--pinset",
                "--warn-days",
                "--output",
            ],
            &[&sweep[..], &["--verbose", "ndjson", "junit"]].concat(),
        ),
        (
            &["pin", "--help"],
            &[
                "--shared-set",
                "--update",
                "--backup-pin",
                "--cacert",
                "--resolve",
                "--proxy",
                "--concurrency",
            ],
            &[
                "--profile",
                "--pinset",
                "--format",
                "--pac",
                "--warn-days",
                "--targets",
                "--shard",
                "--verbose",
                "--quiet",
            ],
        ),
        (
            &["demo", "--help"],
            &["--verbose", "--format"],
            &[
                "--cacert",
                "--resolve",
                "--profile",
                "--output",
                "ndjson",
                "junit",
                "--concurrency",
            ],
        ),
        (
            &["pins", "convert", "--help"],
            &["--from", "--to", "--output"],
            &["--cacert", "--profile", "--format", "--timeout"],
        ),
    ];
    for (args, listed, absent) in cases {
        let out = Probe::new().args(args.iter().copied()).run().await;
        out.assert_code(0);
        for flag in *listed {
            assert!(
                out.stdout.contains(flag),
                "{args:?} lacks {flag}:\n{}",
                out.stdout
            );
        }
        for flag in *absent {
            assert!(
                !out.stdout.contains(flag),
                "{args:?} lists {flag}:\n{}",
                out.stdout
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mistyped_subcommand_is_a_usage_error_not_a_host() {
    for (word, meant) in [("inpsect", "inspect"), ("dmeo", "demo"), ("pinz", "pin")] {
        usage_error(
            &[word, "example.com"],
            &[
                &format!(
                    "error: '{word}' looks like a mistyped subcommand; did you mean '{meant}'?"
                ),
                &format!(
                    "To probe a host of that name, write https://{word}/ or `pinprobe test {word}`"
                ),
            ],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_before_a_subcommand_are_a_usage_error_that_shows_the_fix() {
    usage_error(
        &["-v", "inspect", "example.com"],
        &["error: 'inspect' comes after flags, so it was read as a URL of the default command 'test'; flags go after the subcommand, but 'inspect' does not take '-v' (inspect always shows every detail, with pins in base64 and hex): see `pinprobe inspect --help`"],
    )
    .await;

    // a flag that only the subcommand takes stops clap before the subcommand is seen
    usage_error(
        &["--shared-set", "svc", "pin", "example.com"],
        &[
            "error: unexpected argument '--shared-set' found before the subcommand 'pin'",
            "tip: put the flags after the subcommand: pinprobe pin --shared-set svc example.com",
        ],
    )
    .await;

    // the command line it suggests does what was meant
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let wrong = Probe::new()
        .cacert(&pki.root)
        .resolve(server.port())
        .args(["inspect", &url(server.port()), "--format", "json"])
        .run()
        .await;
    wrong.assert_code(2);
    let prefix = "put the flags after the subcommand: pinprobe ";
    let line = wrong
        .stderr
        .lines()
        .find_map(|l| l.split_once(prefix).map(|(_, fix)| fix.to_string()))
        .unwrap_or_else(|| panic!("no fix in: {}", wrong.stderr));
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words[0], "inspect", "{line}");
    let fixed = Probe::new().args(words).run().await;
    fixed.assert_code(0);
    assert_eq!(fixed.json()["inspect"]["verdict"], "ok", "{}", fixed.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn url_looking_arguments_and_other_bare_words_are_still_hosts() {
    // a dot or a colon makes a URL, whatever its letters; `test` takes every word as a URL;
    // a bare word far from every subcommand is a host name
    let cases: &[(&[&str], &str)] = &[
        (
            &["--resolve", "inpsect.test:443:127.0.0.1", "inpsect.test"],
            "https://inpsect.test/",
        ),
        (
            &["--resolve", "inspect:443:127.0.0.1", "inspect:443"],
            "https://inspect/",
        ),
        (
            &["test", "--resolve", "inpsect:443:127.0.0.1", "inpsect"],
            "https://inpsect/",
        ),
        (
            &["--resolve", "localhost:443:127.0.0.1", "localhost"],
            "https://localhost/",
        ),
    ];
    for (args, want) in cases {
        let out = Probe::new()
            .args(args.iter().copied())
            .args([
                "--format",
                "json",
                "--connect-timeout",
                "2",
                "--timeout",
                "3",
                "--no-http",
            ])
            .run()
            .await;
        assert_ne!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(out.result()["url"], *want, "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_prints_what_a_run_would_probe_and_fails_on_a_skipped_line_as_a_run_does() {
    let probe = Probe::new();
    let targets = probe.file("targets.txt", "https://a.lab.test/\nnot a url at all\n");
    let out = probe
        .args(["--list".as_ref(), "--targets".as_ref(), targets.as_os_str()])
        .run()
        .await;
    out.assert_code(1);
    assert!(out.stderr.contains("targets.txt:2:"), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("GET  https://a.lab.test/  expect any, no pin set"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_would_probe_nothing_is_refused() {
    let probe = Probe::new();
    let empty = probe.file("empty.txt", "# nothing yet\n\n");
    let out = probe
        .args(["--targets".as_ref(), empty.as_os_str()])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr.contains("empty.txt holds no endpoint"),
        "{}",
        out.stderr
    );
    let out = Probe::new()
        .args(["--shard", "5/5", "https://a.lab.test/"])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr.contains("--shard: 5/5 holds none"),
        "{}",
        out.stderr
    );
}
