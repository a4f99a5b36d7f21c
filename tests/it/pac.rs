//! Routes from PAC files: served over HTTP on loopback, sending some hosts through a real
//! squid and the rest DIRECT; failover to the next entry; scripts that throw, loop or answer
//! garbage give `pac-failed` for their endpoint while the others still run.

use pinprobe::lab::{closed_port, HttpServer, LabProxy, ProxyBehaviour, Reply};

use crate::squid::{self, Mode};
use crate::support::*;

fn pac_of(r: &serde_json::Value) -> &serde_json::Value {
    &r["route"]["pac"]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pac_served_over_http_sends_one_host_through_squid_and_the_rest_direct() {
    let pki = genuine_pki(&[HOST, "other.test"]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let Some(proxy) = squid::start(Mode::Forward, &[HOST]) else {
        return;
    };
    let script = format!(
        "function FindProxyForURL(url, host) {{\n  if (dnsDomainIs(host, \"{HOST}\")) return \"PROXY {}\";\n  return \"DIRECT\";\n}}\n",
        proxy.url().trim_start_matches("http://")
    );
    let pac_server = HttpServer::start([("/proxy.pac", Reply::pac(&script))])
        .await
        .expect("PAC server starts");
    let pac_url = pac_server.url("/proxy.pac");
    let other = format!("https://other.test:{}/ping", server.port());
    let out = Probe::new()
        .cacert(&pki.root)
        .args([
            "--pac".to_string(),
            pac_url.clone(),
            "--resolve".into(),
            format!("other.test:{}:127.0.0.1", server.port()),
            url(server.port()),
            other.clone(),
        ])
        .json()
        .run()
        .await;
    let results = out.results();
    assert_eq!(results.len(), 2);
    let (via_proxy, direct) = (&results[0], &results[1]);
    assert_verdict(via_proxy, "ok", 0);
    assert_verdict(direct, "ok", 0);
    assert_eq!(via_proxy["route"]["via"], proxy.url(), "{}", proxy.log());
    let returned = format!("PROXY {}", proxy.url().trim_start_matches("http://"));
    assert_eq!(pac_of(via_proxy)["returned"], returned.as_str());
    assert_eq!(pac_of(via_proxy)["used"], returned.as_str());
    assert!(text(&pac_of(via_proxy)["source"], "source").contains(&pac_url));
    assert_eq!(direct["route"]["via"], "direct");
    assert_eq!(pac_of(direct)["used"], "DIRECT");
    out.assert_code(0);

    // the decision is on the text line too
    let out = Probe::new()
        .cacert(&pki.root)
        .args(["--pac", &pac_url, &url(server.port())])
        .run()
        .await;
    let line = format!(
        "Testing connection with {} (PAC \"{returned}\" -> {returned}) ... [OK]",
        url(server.port())
    );
    assert!(out.stdout.contains(&line), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_first_proxy_fails_over_to_the_second() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let targets =
        std::collections::HashMap::from([(format!("{HOST}:{}", server.port()), server.addr())]);
    let live = LabProxy::start(ProxyBehaviour::Forward { targets })
        .await
        .expect("proxy");
    let dead = closed_port().expect("closed port");
    let probe = Probe::new();
    let pac = probe.file(
        "failover.pac",
        &format!(
            "function FindProxyForURL(url, host) {{ return \"PROXY 127.0.0.1:{dead}; PROXY {}; DIRECT\"; }}",
            live.addr()
        ),
    );
    let out = probe
        .cacert(&pki.root)
        .args([std::ffi::OsString::from("--pac"), pac.into_os_string()])
        .args([url(server.port())])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    assert_eq!(r["route"]["via"], live.url());
    let skipped = &pac_of(&r)["skipped"][0];
    assert_eq!(skipped["entry"], format!("PROXY 127.0.0.1:{dead}"));
    assert!(
        text(&skipped["why"], "why").contains("the proxy"),
        "{skipped}"
    );
    out.assert_code(0);
}

/// A PAC file that answers 10,000 entries gives a report line a person can read: the first
/// entries and the size of the list, in the text and in JSON.
#[tokio::test(flavor = "multi_thread")]
async fn a_ten_thousand_entry_answer_is_shown_by_its_start_and_size() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let probe = Probe::new();
    // SOCKS entries are passed over without a connection, so DIRECT at the end is reached
    let pac = probe.file(
        "long.pac",
        "function FindProxyForURL(url, host) {\n\
         \x20 var list = [];\n\
         \x20 for (var i = 0; i < 9999; i++) list.push('SOCKS s' + i + '.test:1080');\n\
         \x20 list.push('DIRECT');\n\
         \x20 return list.join('; ');\n\
         }\n",
    );
    let pac = pac.into_os_string();
    let out = Probe::new()
        .cacert(&pki.root)
        .resolve(server.port())
        .args([std::ffi::OsString::from("--pac"), pac.clone()])
        .args(["-v".to_string(), url(server.port())])
        .run()
        .await;
    out.assert_code(0);
    let route = out
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with("route "))
        .unwrap_or_else(|| panic!("no route line: {}", out.stdout));
    assert!(route.len() < 2000, "{} bytes: {route}", route.len());
    assert!(route.contains("(10000 entries, "), "{route}");
    assert!(route.contains("and 9995 more skipped"), "{route}");
    assert!(route.contains("used DIRECT"), "{route}");

    let out = Probe::new()
        .cacert(&pki.root)
        .resolve(server.port())
        .args([std::ffi::OsString::from("--pac"), pac])
        .args([url(server.port())])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    let returned = text(&pac_of(&r)["returned"], "returned");
    assert!(
        returned.starts_with("SOCKS s0.test:1080; SOCKS s1.test:1080;"),
        "{returned}"
    );
    assert!(
        returned.ends_with(" bytes)") && returned.len() < 400,
        "{returned}"
    );
}

/// A PAC answer with credentials is refused, and the password is shown nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_in_a_pac_answer_are_masked() {
    let probe = Probe::new();
    let pac = probe.file(
        "creds.pac",
        "function FindProxyForURL(url, host) { return 'PROXY corp:hunter2@proxy.test:3128; DIRECT'; }\n",
    );
    let pac = pac.into_os_string();
    let port = closed_port().expect("a closed port");
    for json in [false, true] {
        let mut run = Probe::new()
            .args([std::ffi::OsString::from("--pac"), pac.clone()])
            .args(["-v".to_string(), url(port)]);
        if json {
            run = run.json();
        }
        let out = run.run().await;
        out.assert_code(1);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("***@proxy.test:3128"), "{all}");
        if json {
            assert_verdict(&out.result(), "pac-failed", 5);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scripts_that_throw_loop_or_answer_garbage_fail_their_endpoint_only() {
    let pki = genuine_pki(&[HOST, "bad.test"]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    for (body, words) in [
        (
            "throw new Error('no proxy for ' + host);",
            "no proxy for bad.test",
        ),
        ("for (;;) {}", "time limit"),
        ("return 42;", "42"),
        ("return 'FOO bar';", "FOO"),
    ] {
        let probe = Probe::new();
        let pac = probe.file(
            "broken.pac",
            &format!(
                "function FindProxyForURL(url, host) {{\n  if (host == \"bad.test\") {{ {body} }}\n  return \"DIRECT\";\n}}\n"
            ),
        );
        let out = probe
            .cacert(&pki.root)
            .resolve(server.port())
            .args([std::ffi::OsString::from("--pac"), pac.into_os_string()])
            .args([
                "--resolve".to_string(),
                format!("bad.test:{}:127.0.0.1", server.port()),
                format!("https://bad.test:{}/ping", server.port()),
                url(server.port()),
            ])
            .json()
            .run()
            .await;
        let results = out.results();
        assert_verdict(&results[0], "pac-failed", 5);
        let detail = text(&results[0]["detail"], "detail");
        assert!(
            detail.contains("broken.pac") && detail.contains(words),
            "{body}: {detail}"
        );
        assert_verdict(&results[1], "ok", 0);
        out.assert_code(1);
    }
    // a script that threw has no answer to quote on the line
    let probe = Probe::new();
    let pac = probe.file(
        "throws.pac",
        "function FindProxyForURL(url, host) { throw new Error('down'); }\n",
    );
    let out = probe
        .args([std::ffi::OsString::from("--pac"), pac.into_os_string()])
        .args([url(server.port())])
        .run()
        .await;
    assert!(
        out.stdout.contains(&format!(
            "Testing connection with {} (PAC -> no answer) ... [ERROR] pac-failed (curl 5)",
            url(server.port())
        )),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pac_that_cannot_be_loaded_is_a_configuration_error() {
    let port = closed_port().expect("closed port");
    for pac in [
        "/nonexistent/proxy.pac".to_string(),
        format!("http://127.0.0.1:{port}/proxy.pac"),
    ] {
        let out = Probe::new()
            .args(["--pac", &pac, "https://lab.test/"])
            .run()
            .await;
        out.assert_code(2);
        assert!(out.stderr.contains("proxy.pac"), "{}", out.stderr);
    }
    let out = Probe::new()
        .args([
            "--pac",
            "x.pac",
            "--proxy",
            "http://127.0.0.1:1",
            "https://lab.test/",
        ])
        .run()
        .await;
    out.assert_code(2);
}

/// A PAC file that is slow but correct (a tenth of a second or more of work per call) answers
/// every endpoint of a sweep at the default `-j`, on a machine as busy as the test suite makes
/// it: the limit counts each evaluation's own running time, not time spent waiting for a core.
/// Forty calls queue for the pool's few threads for longer than the 2 s limit, yet the whole
/// run stays well inside the harness's deadline on a busy two-core machine.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_pac_file_answers_every_endpoint_of_a_sweep() {
    let dead = closed_port().expect("closed port");
    let probe = Probe::new();
    let pac = probe.file(
        "slow.pac",
        &format!(
            "function FindProxyForURL(url, host) {{ var x = 0; for (var i = 0; i < 2000000; i++) {{ x = (x * 31 + i) % 1000003; }} return \"PROXY 127.0.0.1:{dead}\"; }}"
        ),
    );
    // forty hosts, so that no answer comes from the cache; every route ends at a closed
    // loopback port, so nothing leaves the machine
    let urls: Vec<String> = (0..40).map(|i| format!("https://h{i}.test/")).collect();
    let out = probe
        .args([std::ffi::OsString::from("--pac"), pac.into_os_string()])
        .args(["--no-http", "--connect-timeout", "5"])
        .args(urls)
        .json()
        .run()
        .await;
    out.assert_code(1);
    let results = out.results();
    assert_eq!(results.len(), 40);
    for r in &results {
        assert_eq!(r["verdict"], "connect-failed", "{r:#}");
    }
}
