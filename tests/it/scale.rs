//! Endpoint lists at scale: `--targets` files and standard input, malformed lines reported by
//! number while the rest run, `--shard K/N` slices that are disjoint and complete, and no
//! progress bar when standard error is not a terminal.

use std::collections::BTreeSet;

use crate::support::*;

fn urls_of(doc: &serde_json::Value) -> Vec<String> {
    doc["results"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| r["url"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_file_runs_every_good_line_and_reports_the_bad_ones() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let base = url(server.port());
    let probe = Probe::new();
    let list = format!(
        "# the estate\n{base}\n\n{base}/two   # a comment\nftp://{HOST}/\n{HOST}:{}\n",
        server.port()
    );
    let file = probe.file("targets.txt", &list);
    let out = probe
        .cacert(&pki.root)
        .resolve(server.port())
        .args([std::ffi::OsString::from("--targets"), file.into_os_string()])
        .json()
        .run()
        .await;
    // every endpoint is ok, but a line was skipped: the run does not pass
    out.assert_code(1);
    let doc = out.json();
    assert_eq!(
        urls_of(&doc),
        [
            base.clone(),
            format!("{base}/two"),
            format!("https://{HOST}:{}/", server.port())
        ]
    );
    assert!(doc["results"]
        .as_array()
        .is_some_and(|rs| rs.iter().all(|r| r["verdict"] == "ok")));
    let skipped = text(&doc["pinprobe"]["skipped"][0], "skipped line");
    assert!(skipped.contains("targets.txt:5:"), "{skipped}");
    assert!(out.stderr.contains("targets.txt:5:"), "{}", out.stderr);
    // standard error is a file here: no progress bar
    assert!(!out.stderr.contains("eta"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_are_disjoint_and_complete() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let base = url(server.port());
    let all: BTreeSet<String> = (0..12).map(|i| format!("{base}/p{i}")).collect();
    let list: String = all.iter().map(|u| format!("{u}\n")).collect();
    let mut seen = BTreeSet::new();
    for k in 1..=3 {
        let probe = Probe::new();
        let file = probe.file("targets.txt", &list);
        let out = probe
            .cacert(&pki.root)
            .resolve(server.port())
            .args([
                std::ffi::OsString::from("--targets"),
                file.into_os_string(),
                "--shard".into(),
                format!("{k}/3").into(),
                "--no-http".into(),
            ])
            .json()
            .run()
            .await;
        out.assert_code(0);
        for u in urls_of(&out.json()) {
            assert!(seen.insert(u.clone()), "{u} is in two shards");
        }
    }
    assert_eq!(seen, all);

    let out = Probe::new()
        .args(["--shard", "4/3", "https://lab.test/"])
        .run()
        .await;
    out.assert_code(2);
    assert!(out.stderr.contains("--shard"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_low_open_file_limit_lowers_the_concurrency_instead_of_failing_endpoints() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let base = url(server.port());
    let list: String = (0..300).map(|i| format!("{base}/p{i}\n")).collect();
    let probe = Probe::new();
    let file = probe.file("targets.txt", &list);
    // 128 open files, soft and hard: -j 512 cannot have a socket each
    let out = probe
        .open_files(128)
        .cacert(&pki.root)
        .resolve(server.port())
        .args([
            std::ffi::OsString::from("--targets"),
            file.into_os_string(),
            "-j".into(),
            "512".into(),
        ])
        .json()
        .run()
        .await;
    let doc = out.json();
    let results = doc["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 300);
    let not_ok: Vec<String> = results
        .iter()
        .filter(|r| r["verdict"] != "ok")
        .map(|r| format!("{}: {}", r["verdict"], r["detail"]))
        .collect();
    assert!(
        not_ok.is_empty(),
        "{} not ok, first {:?}",
        not_ok.len(),
        not_ok.first()
    );
    out.assert_code(0);
    // said once, on standard error
    assert_eq!(
        out.stderr.matches("probes at a time instead").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("-j 512"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_url_arguments_come_first_then_the_list_in_its_order_with_its_bad_lines_numbered() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let base = url(server.port());
    let lines: Vec<String> = (0..40).map(|i| format!("{base}/p{i}")).collect();
    let mut list = lines.join("\n");
    list.push_str("\nhttps://\n");
    let probe = Probe::new();
    let file = probe.file("targets.txt", &list);
    let out = probe
        .cacert(&pki.root)
        .resolve(server.port())
        .args([
            std::ffi::OsString::from(format!("{base}/first")),
            "--targets".into(),
            file.into_os_string(),
            "--shard".into(),
            "1/1".into(),
            "--no-http".into(),
        ])
        .json()
        .run()
        .await;
    out.assert_code(1);
    let doc = out.json();
    let expected: Vec<String> = std::iter::once(format!("{base}/first"))
        .chain(lines)
        .collect();
    assert_eq!(urls_of(&doc), expected);
    assert_eq!(doc["pinprobe"]["endpoints"], 41);
    let skipped = text(&doc["pinprobe"]["skipped"][0], "skipped line");
    assert!(skipped.contains("targets.txt:41:"), "{skipped}");
}
