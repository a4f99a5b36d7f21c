//! Tests of loading and evaluating PAC files; servers bind to 127.0.0.1:0 and names resolve
//! through fixed resolvers only, so nothing leaves the machine.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::*;
use crate::lab::{closed_port, HttpServer, Reply};
use crate::net::resolve::Override;

/// A sample under tests/data/pac/.
pub(crate) fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pac")
        .join(name)
}

/// Names of the samples' networks, all fixed.
fn resolver() -> Resolver {
    let entries = [
        "intranet.corp.example:443:10.1.2.3",
        "cdn.x.cp.wd.microsoft.com:443:20.1.2.3",
        "www.example.org:443:93.184.216.34",
        "dual.corp.example:443:10.1.2.4,fd00::4",
        "v6only.corp.example:443:fd00::6",
        "build.corp.example:8443:10.9.9.9",
        "printer.lan:443:192.168.1.20",
    ];
    Resolver::fixed(
        entries
            .iter()
            .map(|e| Override::parse(e).unwrap())
            .collect(),
    )
}

fn limits() -> Limits {
    Limits {
        eval_time: Duration::from_secs(1),
        ..Limits::default()
    }
}

fn script(text: &str) -> Pac {
    Pac::from_script("inline.pac", text, &resolver(), limits()).unwrap()
}

/// A PAC file whose answer is its url argument evaluated: the helpers, seen from a PAC file.
fn js_pac() -> Pac {
    script("function FindProxyForURL(url, host) { return String(eval(url)); }")
        .with_my_address("192.0.2.10".parse().unwrap())
}

fn js(pac: &Pac, expr: &str) -> Result<String, PacErrorKind> {
    let expr = expr.to_string();
    pac.pool
        .run(move |engine| engine.call(&expr, "host", "test"))
        .and_then(|answer| answer)
}

fn proxy(host: &str, port: u16) -> PacEntry {
    PacEntry::Proxy {
        host: host.into(),
        port,
    }
}

#[tokio::test]
async fn a_pac_file_from_disk_routes_each_endpoint() {
    let pac = load(
        &PacSource::File(sample("corp.pac")),
        &resolver(),
        Limits::default(),
    )
    .await
    .unwrap();
    assert!(
        pac.name().ends_with("tests/data/pac/corp.pac"),
        "{}",
        pac.name()
    );
    let cases = [
        ("https://intranet/", "intranet", vec![PacEntry::Direct]),
        (
            "https://intranet.corp.example/",
            "intranet.corp.example",
            vec![PacEntry::Direct],
        ),
        (
            "https://10.20.30.40/",
            "10.20.30.40",
            vec![PacEntry::Direct],
        ),
        // a name that resolves into a private range
        (
            "https://printer.lan/",
            "printer.lan",
            vec![PacEntry::Direct],
        ),
        (
            "https://cdn.x.cp.wd.microsoft.com/",
            "cdn.x.cp.wd.microsoft.com",
            vec![proxy("defender-proxy.corp.example", 8080), PacEntry::Direct],
        ),
        (
            "http://www.example.org/",
            "www.example.org",
            vec![proxy("proxy1.corp.example", 3128)],
        ),
        (
            "https://www.example.org/",
            "www.example.org",
            vec![
                proxy("proxy1.corp.example", 3128),
                proxy("proxy2.corp.example", 3128),
            ],
        ),
        // names that do not resolve are not in any network
        (
            "https://unknown.example/",
            "unknown.example",
            vec![
                proxy("proxy1.corp.example", 3128),
                proxy("proxy2.corp.example", 3128),
            ],
        ),
    ];
    for (url, host, want) in cases {
        assert_eq!(pac.find_proxy(url, host).unwrap(), want, "{url}");
    }
}

#[tokio::test]
async fn a_pac_file_over_http_from_a_server_on_port_0() {
    let body = std::fs::read_to_string(sample("corp.pac")).unwrap();
    let server = HttpServer::start([("/proxy.pac", Reply::pac(&body))])
        .await
        .unwrap();
    let addr = server.addr();

    // by address, and by a name the resolver maps to the server
    let by_name = Resolver::fixed_addrs([(("pac.corp.example".to_string(), 80), vec![addr])]);
    for (url, resolver) in [
        (format!("http://{addr}/proxy.pac"), resolver()),
        ("http://pac.corp.example/proxy.pac".to_string(), by_name),
    ] {
        let pac = load(&PacSource::Url(url.clone()), &resolver, Limits::default())
            .await
            .unwrap();
        assert_eq!(pac.name(), url);
        assert_eq!(
            pac.find_proxy("https://intranet/", "intranet").unwrap(),
            [PacEntry::Direct]
        );
    }
}

#[tokio::test]
async fn fetch_failures_name_the_url_and_what_happened() {
    let server = HttpServer::start([
        (
            "/moved.pac",
            Reply::Raw(b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n".to_vec()),
        ),
        ("/big.pac", Reply::pac(&"/* padding */\n".repeat(100))),
        ("/slow.pac", Reply::Silent),
        (
            "/page.html",
            Reply::pac("<html><body>Please log in</body></html>"),
        ),
        ("/empty.pac", Reply::pac("")),
    ])
    .await
    .unwrap();
    let addr = server.addr();
    let small = Limits {
        max_bytes: 1000,
        fetch_time: Duration::from_millis(500),
        ..Limits::default()
    };
    let cases = [
        ("/nothing.pac", "the server answered 404 Not Found, not 200"),
        (
            "/moved.pac",
            "302 Found, not 200 (redirects are not followed)",
        ),
        ("/big.pac", "larger than 1000 bytes"),
        (
            "/slow.pac",
            "cannot fetch it: no complete answer within 0.5 s",
        ),
        ("/page.html", "loading the file threw SyntaxError"),
        ("/empty.pac", "the file is empty"),
    ];
    for (path, words) in cases {
        let url = format!("http://{addr}{path}");
        let started = Instant::now();
        let e = load(&PacSource::Url(url.clone()), &resolver(), small)
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with(&format!("PAC {url}: ")), "{text}");
        assert!(text.contains(words), "{path}: {text}");
        // bounded: the limit worked (generous, for loaded machines)
        assert!(started.elapsed() < Duration::from_secs(10), "{path}");
    }

    for (url, words) in [
        ("https://pac.corp.example/proxy.pac", "only plain http://"),
        (
            "ftp://pac.corp.example/proxy.pac",
            "ftp:// is not supported",
        ),
        (
            "http://unknown.corp.example/proxy.pac",
            "unknown.corp.example: unknown name",
        ),
    ] {
        let e = load(&PacSource::Url(url.into()), &resolver(), small)
            .await
            .unwrap_err();
        assert!(e.to_string().contains(words), "{e}");
    }

    // a port where nothing listens
    let port = closed_port().unwrap();
    let e = load(
        &PacSource::Url(format!("http://127.0.0.1:{port}/proxy.pac")),
        &resolver(),
        small,
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("cannot connect"), "{e}");
}

#[tokio::test]
async fn file_errors_name_the_file() {
    let e = load(
        &PacSource::File(sample("missing.pac")),
        &resolver(),
        limits(),
    )
    .await
    .unwrap_err();
    assert!(e.pac.ends_with("missing.pac"), "{e}");
    assert!(matches!(e.kind, PacErrorKind::Read(_)), "{e}");

    let tiny = Limits {
        max_bytes: 100,
        ..limits()
    };
    let e = load(&PacSource::File(sample("corp.pac")), &resolver(), tiny)
        .await
        .unwrap_err();
    assert_eq!(e.kind, PacErrorKind::TooLarge(100));

    let dir = tempfile::tempdir().unwrap();
    let not_pac = dir.path().join("settings.js");
    std::fs::write(&not_pac, "var proxy = 'PROXY a:1';\n").unwrap();
    let e = load(&PacSource::File(not_pac), &resolver(), limits())
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("defines no function FindProxyForURL(url, host)"),
        "{e}"
    );

    // the configuration error the run stops with names the file
    let config: crate::error::Error = e.clone().into();
    assert_eq!(config.to_string(), format!("{}: {}", e.pac, e.kind));
}

#[tokio::test]
async fn a_pac_that_throws_names_the_file_and_the_javascript_error() {
    let pac = load(
        &PacSource::File(sample("throws.pac")),
        &resolver(),
        limits(),
    )
    .await
    .unwrap();
    // the branch without the bug still answers
    assert_eq!(
        pac.find_proxy("https://a.corp.example/", "a.corp.example")
            .unwrap(),
        [PacEntry::Direct]
    );
    let e = pac
        .find_proxy("https://www.example.org/", "www.example.org")
        .unwrap_err();
    let PacErrorKind::Script {
        message,
        frame,
        stack,
        ..
    } = &e.kind
    else {
        panic!("{e:?}");
    };
    assert_eq!(message, "ReferenceError: chooseProxy is not defined");
    let frame = frame.as_deref().unwrap();
    // QuickJS places a ReferenceError on a nearby line, not always the one of the call
    assert!(
        frame.starts_with("at FindProxyForURL (") && frame.contains("throws.pac:"),
        "{frame}"
    );
    assert!(stack.as_deref().unwrap().contains("throws.pac"));
    let text = e.to_string();
    assert!(text.starts_with("PAC "), "{text}");
    assert!(
        text.contains(
            "throws.pac: FindProxyForURL(\"https://www.example.org/\", \"www.example.org\") threw ReferenceError: chooseProxy is not defined, at FindProxyForURL"
        ),
        "{text}"
    );

    // values that are not errors, and syntax errors while loading
    let e = script("function FindProxyForURL(u, h) { throw 'no proxy today'; }")
        .find_proxy("https://a/", "a")
        .unwrap_err();
    assert!(e.to_string().ends_with("threw \"no proxy today\""), "{e}");
    let e = script("function FindProxyForURL(u, h) { throw new Error('x'.repeat(5000)); }")
        .find_proxy("https://a/", "a")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("... (5007 characters), at FindProxyForURL"),
        "{e}"
    );
    let e = Pac::from_script(
        "broken.pac",
        "function FindProxyForURL(u, h) {\n  return 'DIRECT'\n",
        &resolver(),
        limits(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("PAC broken.pac: loading the file threw SyntaxError"),
        "{e}"
    );
}

#[tokio::test]
async fn a_pac_that_loops_hits_the_time_limit() {
    let pac = load(&PacSource::File(sample("loop.pac")), &resolver(), limits())
        .await
        .unwrap();
    let started = Instant::now();
    let e = pac.find_proxy("https://a/", "a").unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(&e.kind, PacErrorKind::TimeLimit { limit, .. } if *limit == Duration::from_secs(1)),
        "{e:?}"
    );
    // the loop was stopped (bound generous, for loaded machines)
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        e.to_string()
            .contains("loop.pac: time limit hit (1 s) in FindProxyForURL(\"https://a/\", \"a\")"),
        "{e}"
    );

    // a loop at the top level stops the load, as does one that catches what it can
    for text in [
        "while (true) {}\nfunction FindProxyForURL(u, h) { return 'DIRECT'; }",
        "function FindProxyForURL(u, h) { return 'DIRECT'; }\nfor (;;) { try { for (;;) {} } catch (e) {} }",
    ] {
        let started = Instant::now();
        let e = Pac::from_script("top.pac", text, &resolver(), limits()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("PAC top.pac: time limit hit (1 s) in loading the file"),
            "{e}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    // a catastrophic regular expression is stopped too
    let e = script(
        "function FindProxyForURL(u, h) { return /^(a+)+$/.test('a'.repeat(40) + 'b') ? 'DIRECT' : 'DIRECT'; }",
    )
    .find_proxy("https://a/", "a")
    .unwrap_err();
    assert!(matches!(e.kind, PacErrorKind::TimeLimit { .. }), "{e}");
}

#[tokio::test]
async fn a_pac_that_allocates_without_bound_hits_the_memory_limit() {
    // time enough to fill the memory even in a debug build on a busy machine
    let roomy = Limits {
        eval_time: Duration::from_secs(20),
        ..Limits::default()
    };
    let pac = load(&PacSource::File(sample("memory.pac")), &resolver(), roomy)
        .await
        .unwrap();
    let e = pac.find_proxy("https://a/", "a").unwrap_err();
    assert!(
        matches!(&e.kind, PacErrorKind::MemoryLimit { limit, .. } if *limit == 32 << 20),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("memory.pac: memory limit hit (32 MiB) in FindProxyForURL"),
        "{e}"
    );
    // many small objects, kept globally or only locally, and a limit set lower
    let small = Limits {
        memory: 4 << 20,
        ..roomy
    };
    for text in [
        "var keep = []; function FindProxyForURL(u, h) { for (;;) keep.push({u: u, n: keep.length}); }",
        "function FindProxyForURL(u, h) { var keep = []; for (;;) keep.push([u, h]); }",
    ] {
        let e = Pac::from_script("objects.pac", text, &resolver(), small)
            .unwrap()
            .find_proxy("https://a/", "a")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("PAC objects.pac: memory limit hit (4 MiB) in FindProxyForURL"),
            "{e}"
        );
    }
    // a script that throws null itself is not mistaken for one out of memory
    let e = script("function FindProxyForURL(u, h) { throw null; }")
        .find_proxy("https://a/", "a")
        .unwrap_err();
    assert!(e.to_string().ends_with("threw null"), "{e}");
}

#[test]
fn deep_recursion_is_a_script_error_not_a_crash() {
    let pac = script(
        "function f(n) { return f(n + 1); } function FindProxyForURL(u, h) { return f(0); }",
    );
    // asked from a thread with a small stack, as tokio's blocking threads have; the call runs
    // on a thread of the pool, whose stack holds the engine's whole JavaScript stack
    let e = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || pac.find_proxy("https://a/", "a").unwrap_err())
        .unwrap()
        .join()
        .unwrap();
    assert!(
        matches!(&e.kind, PacErrorKind::Script { message, .. }
            if message == "RangeError: Maximum call stack size exceeded"),
        "{e:?}"
    );
}

#[tokio::test]
async fn garbage_answers_are_errors_naming_the_answer() {
    let pac = load(
        &PacSource::File(sample("garbage.pac")),
        &resolver(),
        limits(),
    )
    .await
    .unwrap();
    let e = pac.find_proxy("https://a/", "a").unwrap_err();
    assert!(
        e.to_string().ends_with(
            "garbage.pac: FindProxyForURL(\"https://a/\", \"a\") returned 8080 (a number): not a string; FindProxyForURL must return text such as \"PROXY host:port; DIRECT\""
        ),
        "{e}"
    );
    for (answer, words) in [
        (
            "'PROXY'",
            "returned \"PROXY\": \"PROXY\" has no proxy address",
        ),
        (
            "'FOO bar'",
            "returned \"FOO bar\": \"FOO\" is not DIRECT, PROXY",
        ),
        ("''", "returned \"\": no entry"),
        ("undefined", "returned undefined: not a string"),
        ("null", "returned null: not a string"),
        ("{}", "returned a value of type object: not a string"),
        ("['DIRECT']", "returned an array: not a string"),
        (
            "'PROXY ' + 'x'.repeat(100000) + ':0'",
            "xxx... (100010 characters): \"PROXY xxx",
        ),
    ] {
        let e = script(&format!(
            "function FindProxyForURL(u, h) {{ return {answer}; }}"
        ))
        .find_proxy("https://a/", "a")
        .unwrap_err();
        assert!(
            matches!(e.kind, PacErrorKind::Garbage { .. }),
            "{answer}: {e:?}"
        );
        assert!(e.to_string().contains(words), "{answer}: {e}");
    }
}

#[tokio::test]
async fn answers_become_hops_in_order_with_unsupported_entries_explained() {
    let resolver = Resolver::fixed(Vec::new());
    let pac = load(
        &PacSource::File(sample("failover.pac")),
        &resolver,
        limits(),
    )
    .await
    .unwrap();
    let (url, host) = arguments("https://cdn.x.cp.wd.microsoft.com/ping?x=1").unwrap();
    assert_eq!(url, "https://cdn.x.cp.wd.microsoft.com/");
    let entries = pac.find_proxy(&url, &host).unwrap();
    let described: Vec<String> = hops(&entries).iter().map(Hop::describe).collect();
    assert_eq!(
        described,
        [
            "PROXY dead.proxy.test:3128",
            "PROXY live.proxy.test:3128",
            "DIRECT"
        ]
    );

    let pac =
        script("function FindProxyForURL(u, h) { return 'SOCKS5 s:1080; HTTPS h:443; DIRECT'; }");
    let entries = pac.find_proxy("https://a/", "a").unwrap();
    let hops = hops(&entries);
    match &hops[0] {
        Hop::Unsupported { entry, why } => {
            assert_eq!(entry, "SOCKS5 s:1080");
            assert!(why.contains("not supported by the Defender agent"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&hops[1], Hop::Unsupported { why, .. } if why.contains("HTTPS proxies")));
    assert!(matches!(hops[2], Hop::Direct));
}

#[test]
fn helper_functions() {
    let pac = js_pac();
    let cases = [
        ("isPlainHostName('www')", "true"),
        ("isPlainHostName('www.corp.example')", "false"),
        ("dnsDomainIs('www.corp.example', '.corp.example')", "true"),
        ("dnsDomainIs('WWW.Corp.Example', '.corp.example')", "true"),
        ("dnsDomainIs('www.other.example', '.corp.example')", "false"),
        ("dnsDomainIs('ample', '.corp.example')", "false"),
        ("localHostOrDomainIs('www', 'www.corp.example')", "true"),
        (
            "localHostOrDomainIs('www.corp.example', 'www.corp.example')",
            "true",
        ),
        (
            "localHostOrDomainIs('www.other.example', 'www.corp.example')",
            "false",
        ),
        ("localHostOrDomainIs('home', 'www.corp.example')", "false"),
        ("isResolvable('intranet.corp.example')", "true"),
        ("isResolvable('nowhere.invalid')", "false"),
        ("isResolvable('10.0.0.1')", "true"),
        ("dnsResolve('intranet.corp.example')", "10.1.2.3"),
        ("dnsResolve('v6only.corp.example')", "null"),
        ("dnsResolve('nowhere.invalid')", "null"),
        ("dnsResolve('bad name!')", "null"),
        ("dnsResolveEx('dual.corp.example')", "10.1.2.4;fd00::4"),
        ("dnsResolveEx('nowhere.invalid')", ""),
        ("isResolvableEx('v6only.corp.example')", "true"),
        (
            "isInNet('intranet.corp.example', '10.0.0.0', '255.0.0.0')",
            "true",
        ),
        ("isInNet('10.1.2.3', '10.1.0.0', '255.255.0.0')", "true"),
        ("isInNet('172.31.5.4', '172.16.0.0', '255.240.0.0')", "true"),
        (
            "isInNet('172.32.5.4', '172.16.0.0', '255.240.0.0')",
            "false",
        ),
        ("isInNet('192.168.1.1', '10.0.0.0', '255.0.0.0')", "false"),
        (
            "isInNet('255.255.255.255', '255.255.255.0', '255.255.255.0')",
            "true",
        ),
        ("isInNet('nowhere.invalid', '0.0.0.0', '0.0.0.0')", "false"),
        ("isInNet('10.1.2.3', '10.0.0.0', 'not a mask')", "false"),
        (
            "isInNet('v6only.corp.example', '0.0.0.0', '0.0.0.0')",
            "false",
        ),
        ("isInNetEx('dual.corp.example', 'fd00::/8')", "true"),
        ("isInNetEx('dual.corp.example', '10.1.2.0/24')", "true"),
        ("isInNetEx('intranet.corp.example', 'fd00::/8')", "false"),
        ("isInNetEx('10.1.2.3', '10.1.2.0/33')", "false"),
        ("myIpAddress()", "192.0.2.10"),
        (
            "isInNet(myIpAddress(), '192.0.2.0', '255.255.255.0')",
            "true",
        ),
        ("dnsDomainLevels('www')", "0"),
        ("dnsDomainLevels('www.corp.example')", "2"),
        ("convertAddr('10.0.0.1')", "167772161"),
        ("convertAddr('255.255.255.255')", "4294967295"),
        (
            "shExpMatch('http://home.netscape.com/people/ari/index.html', '*/ari/*')",
            "true",
        ),
        (
            "shExpMatch('http://home.netscape.com/people/montulli/index.html', '*/ari/*')",
            "false",
        ),
        ("shExpMatch('www.corp.example', '*.corp.example')", "true"),
        ("shExpMatch('corp.example', '*.corp.example')", "false"),
        ("shExpMatch('a.b', 'a?b')", "true"),
        ("shExpMatch('axb', 'a.b')", "false"),
        ("shExpMatch('abc', 'a*b*c*')", "true"),
        ("shExpMatch('abc', '')", "false"),
        ("shExpMatch('', '*')", "true"),
        ("shExpMatch('a+b(c)', 'a+b(c)')", "true"),
        (
            "shExpMatch('a'.repeat(20000) + 'b', '*a*a*a*a*a*c')",
            "false",
        ),
        ("typeof alert('debug')", "undefined"),
    ];
    for (expr, want) in cases {
        assert_eq!(js(&pac, expr).unwrap(), want, "{expr}");
    }
}

#[test]
fn name_lookups_use_the_endpoint_port_and_are_cached() {
    let pac = script(
        "function FindProxyForURL(u, h) { return isInNet(h, '10.9.0.0', '255.255.0.0') ? 'DIRECT' : 'PROXY p:1'; }",
    );
    // a --resolve entry for port 8443 applies to https://build.corp.example:8443/ only
    assert_eq!(
        pac.find_proxy("https://build.corp.example:8443/", "build.corp.example")
            .unwrap(),
        [PacEntry::Direct]
    );
    assert_eq!(
        pac.find_proxy("https://build.corp.example/", "build.corp.example")
            .unwrap(),
        [proxy("p", 1)]
    );
    let cached = pac.inner.dns.lock().unwrap().len();
    assert_eq!(cached, 2);
}

#[test]
fn date_and_time_functions_with_a_fixed_clock() {
    // Friday 2024-03-15 14:30:45 UTC, 15:30:45 in a zone one hour east of UTC
    let pac = js_pac().with_clock(1_710_513_045_000, 60);
    let cases = [
        ("weekdayRange('FRI')", "true"),
        ("weekdayRange('fri', 'GMT')", "true"),
        ("weekdayRange('MON', 'FRI')", "true"),
        ("weekdayRange('SAT', 'SUN')", "false"),
        ("weekdayRange('THU', 'SAT')", "true"),
        ("weekdayRange('SAT', 'THU')", "false"),
        ("weekdayRange('WED', 'MON')", "true"),
        ("dateRange(15)", "true"),
        ("dateRange(1, 14)", "false"),
        ("dateRange(10, 20)", "true"),
        ("dateRange(25, 15)", "true"),
        ("dateRange('MAR')", "true"),
        ("dateRange('JAN', 'FEB')", "false"),
        ("dateRange('NOV', 'MAR')", "true"),
        ("dateRange(2024)", "true"),
        ("dateRange(2020, 2023)", "false"),
        ("dateRange(1, 'MAR', 31, 'MAR')", "true"),
        ("dateRange(16, 'MAR', 14, 'MAR')", "false"),
        ("dateRange(14, 'MAR', 16, 'MAR')", "true"),
        ("dateRange('MAR', 2024, 'APR', 2024)", "true"),
        ("dateRange('APR', 2024, 'MAR', 2025)", "false"),
        ("dateRange(1, 'JAN', 2024, 31, 'DEC', 2024)", "true"),
        ("dateRange(1, 'JAN', 2025, 1, 'FEB', 2025)", "false"),
        ("dateRange(15, 'GMT')", "true"),
        ("timeRange(15)", "true"),
        ("timeRange(14)", "false"),
        ("timeRange(14, 'GMT')", "true"),
        ("timeRange(9, 17)", "true"),
        ("timeRange(9, 15)", "true"),
        ("timeRange(16, 17)", "false"),
        ("timeRange(22, 6)", "false"),
        ("timeRange(14, 10)", "true"),
        ("timeRange(15, 30, 15, 31)", "true"),
        ("timeRange(15, 31, 16, 0)", "false"),
        ("timeRange(15, 30, 40, 15, 30, 45)", "true"),
        ("timeRange(15, 30, 50, 15, 31, 0)", "false"),
        ("timeRange(14, 30, 0, 14, 31, 0, 'GMT')", "true"),
    ];
    for (expr, want) in cases {
        assert_eq!(js(&pac, expr).unwrap(), want, "{expr}");
    }

    // just after midnight locally, still Friday in GMT
    let pac = js_pac().with_clock(1_710_545_400_000, 60);
    for (expr, want) in [
        ("weekdayRange('SAT')", "true"),
        ("weekdayRange('SAT', 'GMT')", "false"),
        ("dateRange(16, 'MAR', 16, 'MAR')", "true"),
        ("dateRange(15, 'GMT')", "true"),
        ("timeRange(0)", "true"),
        ("timeRange(23, 'GMT')", "true"),
        ("timeRange(22, 6)", "true"),
    ] {
        assert_eq!(js(&pac, expr).unwrap(), want, "{expr}");
    }

    // the machine's clock when none is fixed: today is within the whole week
    let pac = js_pac();
    assert_eq!(js(&pac, "weekdayRange('SUN', 'SAT')").unwrap(), "true");
    assert_eq!(js(&pac, "timeRange(0, 23)").unwrap(), "true");
}

#[test]
fn date_and_time_functions_reject_arguments_they_cannot_read() {
    let pac = js_pac().with_clock(1_710_513_045_000, 0);
    for (expr, words) in [
        (
            "weekdayRange('XYZ')",
            "weekdayRange: \"XYZ\" is not a day (SUN..SAT)",
        ),
        ("weekdayRange()", "weekdayRange: expected 1 or 2 days"),
        ("dateRange('FOO')", "dateRange: \"FOO\" is not a day"),
        (
            "dateRange(1, 'MAR', 2024)",
            "dateRange: cannot read the arguments",
        ),
        ("dateRange()", "cannot read the arguments (none)"),
        (
            "timeRange(1, 2, 3)",
            "timeRange: expected 1, 2, 4 or 6 numbers",
        ),
        (
            "timeRange(25)",
            "timeRange: \"25\" is not a number from 0 to 24",
        ),
        (
            "timeRange(10, 61, 11, 0)",
            "\"61\" is not a number from 0 to 59",
        ),
    ] {
        let e = js(&pac, expr).unwrap_err();
        assert!(
            matches!(&e, PacErrorKind::Script { message, .. } if message.contains(words)),
            "{expr}: {e:?}"
        );
    }
}

#[test]
fn the_file_is_loaded_once_and_its_globals_persist_as_in_browsers() {
    // the top level counts its runs, the function its calls
    let pac = script(
        "var loads = (typeof loads == 'number' ? loads : 0) + 1; var calls = 0;\n\
         function FindProxyForURL(u, h) { calls++; return 'PROXY l' + loads + '-c' + calls + ':1'; }",
    );
    // one caller after another: one thread, one load, and each call sees the ones before
    for i in 1..=50 {
        let host = format!("h{i}.test");
        assert_eq!(
            pac.find_proxy(&format!("https://{host}/"), &host).unwrap(),
            [proxy(&format!("l1-c{i}"), 1)]
        );
    }
    assert_eq!(pac.inner.loads.load(Ordering::Relaxed), 1);

    // many callers at once: at most one load per thread of the pool
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let callers: Vec<_> = (0..4 * cores)
        .map(|t| {
            let pac = pac.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let host = format!("t{t}-{i}.test");
                    pac.find_proxy(&format!("https://{host}/"), &host).unwrap();
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().unwrap();
    }
    let loads = pac.inner.loads.load(Ordering::Relaxed);
    assert!(
        (1..=cores).contains(&loads),
        "{loads} loads on {cores} cores"
    );
}

#[test]
fn a_call_that_hits_a_limit_leaves_a_fresh_load_for_the_next() {
    // the file fills a global until the memory limit, once; the load after it starts empty
    let pac = Pac::from_script(
        "fills.pac",
        "var keep = [];\n\
         function FindProxyForURL(u, h) {\n\
           if (h == 'fill') for (;;) keep.push([u, h, keep.length]);\n\
           if (h == 'spin') for (;;) {}\n\
           return 'PROXY k' + keep.length + ':1';\n\
         }",
        &resolver(),
        Limits {
            memory: 4 << 20,
            eval_time: Duration::from_secs(1),
            ..Limits::default()
        },
    )
    .unwrap();
    let ask = |host: &str| pac.find_proxy(&format!("https://{host}/"), host);
    assert!(matches!(
        ask("fill").unwrap_err().kind,
        PacErrorKind::MemoryLimit { .. }
    ));
    assert_eq!(ask("a").unwrap(), [proxy("k0", 1)]);
    let started = Instant::now();
    assert!(matches!(
        ask("spin").unwrap_err().kind,
        PacErrorKind::TimeLimit { .. }
    ));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(ask("b").unwrap(), [proxy("k0", 1)]);
    // the first load, and one after each limit
    assert_eq!(pac.inner.loads.load(Ordering::Relaxed), 3);
    // a script error is the script's answer: the context stays
    let pac = script(
        "var calls = 0; function FindProxyForURL(u, h) { calls++; if (h == 'x') throw 'no'; return 'PROXY c' + calls + ':1'; }",
    );
    assert!(pac.find_proxy("https://x/", "x").is_err());
    assert_eq!(pac.find_proxy("https://y/", "y").unwrap(), [proxy("c2", 1)]);
    assert_eq!(pac.inner.loads.load(Ordering::Relaxed), 1);
}

#[test]
fn many_lookups_start_no_thread_each() {
    let names: Vec<String> = (0..500).map(|i| format!("n{i}.many.test")).collect();
    let overrides = names
        .iter()
        .enumerate()
        .map(|(i, name)| Override::parse(&format!("{name}:443:10.7.{}.{}", i / 256, i % 256)))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let pac = Pac::from_script(
        "many.pac",
        "function FindProxyForURL(u, h) { return isInNet(dnsResolve(h), '10.7.0.0', '255.255.0.0') ? 'DIRECT' : 'PROXY p:1'; }",
        &Resolver::fixed(overrides),
        limits(),
    )
    .unwrap();
    let ask = |name: &str| pac.find_proxy(&format!("https://{name}/"), name).unwrap();
    // the first lookup of the process may start the lookup thread
    assert_eq!(ask(&names[0]), [PacEntry::Direct]);
    let started = dns::threads_started();
    for name in &names[1..] {
        assert_eq!(ask(name), [PacEntry::Direct], "{name}");
    }
    assert_eq!(dns::threads_started(), started);
    assert_eq!(pac.inner.dns.lock().unwrap().len(), 500);
    assert_eq!(ask("unknown.many.test"), [proxy("p", 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pac_is_shared_by_concurrent_tasks() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Pac>();
    let pac = load(&PacSource::File(sample("corp.pac")), &resolver(), limits())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let pac = pac.clone();
            tokio::task::spawn_blocking(move || {
                let host = if i % 2 == 0 {
                    "intranet"
                } else {
                    "www.example.org"
                };
                (i, pac.find_proxy(&format!("https://{host}/"), host))
            })
        })
        .collect();
    for task in tasks {
        let (i, answer) = task.await.unwrap();
        let answer = answer.unwrap();
        if i % 2 == 0 {
            assert_eq!(answer, [PacEntry::Direct]);
        } else {
            assert_eq!(answer.len(), 2);
        }
    }
    // and directly from an async task, where blocking lookups must not need the runtime
    assert_eq!(
        pac.find_proxy("https://printer.lan/", "printer.lan")
            .unwrap(),
        [PacEntry::Direct]
    );
}

#[test]
fn arguments_as_browsers_pass_them() {
    for (url, want_url, want_host) in [
        (
            "https://User:pw@CDN.Example.com:8443/ping?x=1#f",
            "https://cdn.example.com:8443/",
            "cdn.example.com",
        ),
        ("https://[::1]:8443/x", "https://[::1]:8443/", "::1"),
        (
            "http://a.example/path?q",
            "http://a.example/path?q",
            "a.example",
        ),
    ] {
        assert_eq!(
            arguments(url).unwrap(),
            (want_url.to_string(), want_host.to_string()),
            "{url}"
        );
    }
    assert!(arguments("not a url").is_err());
}

#[test]
fn sources_from_the_command_line() {
    assert_eq!(
        PacSource::parse("http://pac.corp.example/proxy.pac"),
        PacSource::Url("http://pac.corp.example/proxy.pac".into())
    );
    assert_eq!(
        PacSource::parse("file:///etc/proxy.pac"),
        PacSource::File("/etc/proxy.pac".into())
    );
    assert_eq!(
        PacSource::parse("proxy.pac"),
        PacSource::File("proxy.pac".into())
    );
    assert_eq!(
        PacSource::Url("http://u:secret@pac.corp.example/p.pac".into()).to_string(),
        "http://***@pac.corp.example/p.pac"
    );
}
