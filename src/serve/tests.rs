use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::params::{self, Known};
use super::request::{self, Read};
use super::*;
use crate::chain::trust::{AnchorSet, Store};
use crate::endpoint::Method;
use crate::evidence::Interceptors;
use crate::lab::{Behaviour, Ca, KeyKind, LeafSpec, Server};
use crate::net::resolve::{Override, Resolver};
use crate::probe::Settings;

/// Reads a head from `bytes`, written at once, then the writing side held open.
async fn read_bytes(bytes: &[u8], limit: usize) -> Read {
    let (mut client, mut server) = tokio::io::duplex(64 * 1024);
    client.write_all(bytes).await.unwrap();
    request::read(&mut server, limit, Duration::from_millis(300)).await
}

#[tokio::test]
async fn a_request_head_is_read_within_its_bounds() {
    let read = read_bytes(
        b"GET /probe?target=https%3A%2F%2Flab.test%2F HTTP/1.1\r\nHost: x\r\n\r\n",
        MAX_HEAD,
    )
    .await;
    assert_eq!(
        read,
        Read::Request(request::Request {
            method: "GET".into(),
            path: "/probe".into(),
            query: "target=https%3A%2F%2Flab.test%2F".into(),
        })
    );

    let long_line = format!("GET /probe?target={} HTTP/1.1\r\n\r\n", "a".repeat(200));
    assert!(matches!(
        read_bytes(long_line.as_bytes(), 128).await,
        Read::Refused(414, _)
    ));

    let long_header = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(200));
    assert!(matches!(
        read_bytes(long_header.as_bytes(), 128).await,
        Read::Refused(431, _)
    ));

    let mut many = String::from("GET / HTTP/1.1\r\n");
    for i in 0..100 {
        many.push_str(&format!("X-{i}: 1\r\n"));
    }
    many.push_str("\r\n");
    assert!(matches!(
        read_bytes(many.as_bytes(), MAX_HEAD).await,
        Read::Refused(431, _)
    ));

    assert!(matches!(
        read_bytes(b"\x16\x03\x01\x02\x00 not http\r\n\r\n", MAX_HEAD).await,
        Read::Refused(400, _)
    ));
    // absolute-form targets are for proxies
    assert!(matches!(
        read_bytes(b"GET http://x/probe HTTP/1.1\r\n\r\n", MAX_HEAD).await,
        Read::Refused(400, _)
    ));
    // half a head, then nothing: 408 at the deadline; nothing at all: no answer
    assert!(matches!(
        read_bytes(b"GET /probe HTTP/1.1\r\n", MAX_HEAD).await,
        Read::Refused(408, _)
    ));
    assert_eq!(read_bytes(b"", MAX_HEAD).await, Read::Gone);
}

fn known(endpoints: &[&str]) -> Known {
    let mut profile = Vec::new();
    for url in endpoints {
        let mut e = Endpoint::parse(url).unwrap();
        e.method = Method::Head;
        e.expect.status = Some(404);
        e.pinset = Some("agent".into());
        profile.push(e);
    }
    Known {
        endpoints: profile,
        pinsets: vec!["agent".into(), "lab".into()],
        default_pinset: None,
        profile: "profile.toml".into(),
    }
}

#[test]
fn bad_parameters_are_explained_in_one_line() {
    let k = known(&["https://svc.test/x"]);
    for (query, needle) in [
        ("", "missing target"),
        ("target=", "missing target"),
        ("pinset=lab", "missing target"),
        ("target=http%3A%2F%2Flab.test%2F", "use https://"),
        (
            "target=https%3A%2F%2Flab.test%2F&pinset=nope",
            "no pin set is named \"nope\": use one of agent, lab",
        ),
        ("target=lab.test&target=other.test", "target is given twice"),
        (
            "target=lab.test&module=http_2xx",
            "unknown parameter \"module\"",
        ),
        (
            "target=lab.test&profile-endpoint=https%3A%2F%2Fother.test%2F",
            "has no endpoint with this URL",
        ),
        ("target=lab.test%0a%1b%5B31m", "holds a line break inside"),
    ] {
        let message = params::endpoint(query, &k).unwrap_err();
        assert!(message.contains(needle), "{query}: {message}");
        let shown = Answer::message(400, &message);
        let body = String::from_utf8(shown.body).unwrap();
        assert_eq!(body.lines().count(), 1, "{body:?}");
        assert!(!body.contains('\x1b'), "{body:?}");
    }
}

#[test]
fn a_profile_endpoint_lends_its_pin_set_method_and_expected_answer() {
    let mut k = known(&["https://svc.test/x", "https://svc.test/y"]);
    let e = params::endpoint(
        "target=https://mirror.test:8443/x&profile-endpoint=HTTPS://SVC.test:443/x",
        &k,
    )
    .unwrap();
    assert_eq!(e.url, "https://mirror.test:8443/x");
    assert_eq!(e.method, Method::Head);
    assert_eq!(e.expect.status, Some(404));
    assert_eq!(e.pinset.as_deref(), Some("agent"));
    // the spelling relabelling can write, and an explicit pin set wins
    let e = params::endpoint(
        "target=svc.test/y&profile_endpoint=https://svc.test/y&pinset=lab",
        &k,
    )
    .unwrap();
    assert_eq!((e.method, e.pinset.as_deref()), (Method::Head, Some("lab")));
    // a bare target: GET, any answer, the pin set of serve --pinset
    k.default_pinset = Some("lab".into());
    let e = params::endpoint("target=lab.test", &k).unwrap();
    assert_eq!(e.url, "https://lab.test/");
    assert_eq!((e.method, e.expect.status), (Method::Get, None));
    assert_eq!(e.pinset.as_deref(), Some("lab"));
}

/// An exporter on 127.0.0.1:0 whose public store holds `root` and whose resolver maps lab.test
/// on `port` to 127.0.0.1.
async fn exporter(root: &Ca, port: u16, max_concurrent: usize) -> (SocketAddr, Arc<Exporter>) {
    let resolve = Override::parse(&format!("lab.test:{port}:127.0.0.1")).unwrap();
    let context = Context::new(
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test root"),
        AnchorSet::from_certificates(Store::Os, &[], "test"),
        Vec::new(),
        Interceptors::bundled().unwrap(),
        Resolver::fixed(vec![resolve]),
        Settings {
            timeout: Duration::from_secs(10),
            ..Settings::default()
        },
    )
    .unwrap();
    let config = Config::default();
    let exporter = Arc::new(Exporter::new(
        context,
        &config,
        Vec::new(),
        None,
        max_concurrent,
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, Arc::clone(&exporter)));
    (addr, exporter)
}

/// Sends `head` and reads the whole answer, within 15 s.
async fn ask(addr: SocketAddr, head: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut answer))
        .await
        .expect("an answer within 15 s")
        .unwrap();
    String::from_utf8(answer).unwrap()
}

async fn get(addr: SocketAddr, target: &str) -> String {
    ask(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: exporter\r\n\r\n"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_exporter_answers_probes_its_own_metrics_and_refuses_the_rest() {
    let root = Ca::root("Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let leaf = root.leaf(&LeafSpec::new(["lab.test"])).unwrap();
    let server = Server::start(
        leaf.chain(),
        leaf.key.clone_key(),
        Behaviour::DelayedHttp {
            status: 200,
            body: "OK".into(),
            delay: Duration::from_millis(1500),
        },
    )
    .await
    .unwrap();
    let (addr, exporter) = exporter(&root, server.port(), 1).await;
    let target = format!("/probe?target=https://lab.test:{}/ping", server.port());

    // one probe at a time: a second while the first runs is answered 503
    let first = tokio::spawn(async move { get(addr, &target).await });
    for _ in 0..100 {
        if server.accepted() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy = get(addr, "/probe?target=lab.test").await;
    assert!(busy.starts_with("HTTP/1.1 503 "), "{busy}");
    let metrics = get(addr, "/metrics").await;
    assert!(
        metrics.contains("\npinprobe_exporter_probes_in_flight 1\n"),
        "{metrics}"
    );

    let answer = first.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\nprobe_success 1\n"), "{answer}");
    assert!(
        answer.contains("\npinprobe_verdict{verdict=\"ok\"} 1\n"),
        "{answer}"
    );
    assert!(!answer.contains("pinprobe_pin_match"), "{answer}");

    let refused = ask(addr, "POST /probe HTTP/1.1\r\n\r\n").await;
    assert!(refused.starts_with("HTTP/1.1 405 "), "{refused}");
    assert!(refused.contains("\r\nAllow: GET\r\n"), "{refused}");
    assert!(get(addr, "/nothing").await.starts_with("HTTP/1.1 404 "));
    assert!(get(addr, "/probe").await.starts_with("HTTP/1.1 400 "));
    let long = format!("/probe?target={}", "a".repeat(MAX_HEAD));
    assert!(get(addr, &long).await.starts_with("HTTP/1.1 414 "));

    let counts = exporter.requests();
    assert_eq!(counts.get(&("/probe", 200)), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&("/probe", 503)), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&("/probe", 405)), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&("other", 414)), Some(&1), "{counts:?}");
    let metrics = get(addr, "/metrics").await;
    assert!(
        metrics.contains("\npinprobe_exporter_probes_in_flight 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\npinprobe_exporter_probe_duration_seconds_count 1\n"),
        "{metrics}"
    );
}
