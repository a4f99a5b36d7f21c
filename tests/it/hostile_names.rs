//! Hostile names: a leaf whose CN and O, and an issuing CA whose CN and O, hold terminal
//! escape sequences, line breaks, C1 controls and bidirectional overrides. Every text output
//! shows them escaped (no forged `[OK]` line, no colour, no window title); JSON keeps them
//! exactly; JUnit stays well-formed XML; the profile `pin` writes reads back exactly.

use pinprobe::lab::{closed_port, Ca, KeyKind, LabProxy, LeafSpec, ProxyBehaviour};
use pinprobe::profile::Profile;

use crate::support::*;

/// A CN that, printed raw, ends the report's line and forges a green `[OK]` one.
const LEAF_CN: &str =
    "lab.test\r\n\x1b[32mTesting connection with https://bank.example/ ... [OK]\x1b[0m";
/// An O with a right-to-left override, a C1 CSI and a NEL.
const LEAF_O: &str =
    "Lab \u{202e}gpj.exe\u{9b}2J\u{85}Testing connection with https://bank.example/ ... [OK]";
/// An issuer CN that sets the window title and clears the screen.
const ISSUER_CN: &str = "Issuing CA \x1b]0;pwned\x07\x1b[2J\x1b[H";
/// An issuer O with the C1 OSC and a line separator.
const ISSUER_O: &str = "Lab\u{9d}0;pwned\u{9c}\u{2028}\u{2066}";

/// A root CN with the same forged line: the verdict's detail names the anchor.
const ROOT_CN: &str =
    "Lab Root\r\n\x1b[32mTesting connection with https://bank.example/ ... [OK]\x1b[0m";

/// The forged line, as it would stand on its own.
const FORGED: &str = "Testing connection with https://bank.example/";

/// A chain whose leaf and issuing CA carry the hostile names; the leaf covers `HOST`.
struct Hostile {
    root: Ca,
    inter: Ca,
    leaf: pinprobe::lab::Leaf,
}

fn hostile_pki() -> Hostile {
    let root = Ca::root(ROOT_CN, "Lab", KeyKind::EcdsaP256).expect("root");
    let inter = root
        .intermediate(ISSUER_CN, ISSUER_O, KeyKind::EcdsaP256)
        .expect("intermediate");
    let spec = LeafSpec {
        common_name: Some(LEAF_CN.into()),
        organization: Some(LEAF_O.into()),
        ..LeafSpec::new([HOST])
    };
    let leaf = inter.leaf(&spec).expect("leaf");
    Hostile { root, inter, leaf }
}

/// Asserts that a text output shows nothing raw: no ESC, CR, BEL, C1 control, line or
/// paragraph separator or bidirectional control, and no forged line of its own; and that the
/// hostile names were shown, escaped.
fn assert_shown_escaped(what: &str, text: &str) {
    assert_nothing_raw(what, text);
    assert!(
        text.contains(r"\r\n\x1b[32mTesting connection"),
        "{what}: the leaf's CN is not shown escaped:\n{text}"
    );
}

/// Asserts that a text output holds no character of `report::is_escaped` but line ends, and
/// no forged line of its own.
fn assert_nothing_raw(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| c != '\n' && pinprobe::report::is_escaped(c))
        .collect();
    assert!(
        raw.is_empty(),
        "{what}: raw characters {raw:?} reach the terminal:\n{text}"
    );
    for c in ['\x1b', '\r', '\x07', '\u{202e}', '\u{9b}', '\u{85}'] {
        assert!(!text.contains(c), "{what}: {c:?} is raw:\n{text}");
    }
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with(FORGED),
            "{what}: a forged line stands on its own: {line:?}\n{text}"
        );
    }
}

/// A profile that pins `host`'s endpoint to a key of no certificate: the chain drifted.
fn stale_profile(port: u16) -> String {
    format!(
        "[pinsets.svc]\npins = [{{ pin = \"sha256/{}\", label = \"old leaf\" }}]\n\n\
         [[endpoints]]\nurl = \"{}\"\npinset = \"svc\"\n",
        unrelated_pin("old leaf"),
        url(port)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_line_and_the_drift_block_show_hostile_names_escaped() {
    let h = hostile_pki();
    let server = serve(&h.leaf, http(200, "OK")).await;
    let port = server.port();

    // trusted only by the OS store: the verdict's detail names the anchor
    let out = Probe::new().os_trusts(&h.root).endpoint(port).run().await;
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert_shown_escaped("text, os-only", &format!("{}{}", out.stdout, out.stderr));

    // a stale pin set: the drift block lists the pins the chain needs, labelled with its names
    let out = Probe::new()
        .profile(&stale_profile(port))
        .cacert(&h.root)
        .resolve(port)
        .run()
        .await;
    out.assert_code(1);
    assert!(out.stdout.contains("drift: "), "{}", out.stdout);
    assert_shown_escaped("text, drift", &format!("{}{}", out.stdout, out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_details_show_hostile_names_escaped() {
    let h = hostile_pki();
    let server = serve(&h.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&h.root)
        .endpoint(server.port())
        .args(["-v"])
        .run()
        .await;
    out.assert_code(0);
    assert!(out.stdout.contains("issuer   "), "{}", out.stdout);
    assert_shown_escaped("-v", &format!("{}{}", out.stdout, out.stderr));
    assert!(
        out.stdout.contains(r"Issuing CA \x1b]0;pwned\x07\x1b[2J"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(r"\u{202e}gpj.exe\u{9b}2J\u{85}"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(r"\u{9d}0;pwned\u{9c}\u{2028}\u{2066}"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inspect_live_and_from_a_file_shows_hostile_names_escaped() {
    let h = hostile_pki();
    let server = serve(&h.leaf, http(200, "OK")).await;
    let port = server.port();
    let out = Probe::new()
        .args(["inspect"])
        .cacert(&h.root)
        .endpoint(port)
        .run()
        .await;
    out.assert_code(0);
    assert!(out.stdout.contains("pins to add"), "{}", out.stdout);
    assert_shown_escaped("inspect", &format!("{}{}", out.stdout, out.stderr));

    let probe = Probe::new().args(["inspect"]);
    let pem: String = [h.leaf.pem(), h.inter.pem()].concat();
    let file = probe.file("chain.pem", &pem);
    let out = probe
        .args(flag("--file", &file))
        .cacert(&h.root)
        .args([HOST])
        .run()
        .await;
    out.assert_code(0);
    assert!(
        out.stdout.contains("chain read from a file"),
        "{}",
        out.stdout
    );
    assert_shown_escaped("inspect --file", &format!("{}{}", out.stdout, out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn pin_writes_escaped_toml_and_escaped_lines() {
    let h = hostile_pki();
    let server = serve(&h.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .args(["pin"])
        .cacert(&h.root)
        .endpoint(server.port())
        .run()
        .await;
    out.assert_code(0);
    assert!(out.stderr.contains("profile written"), "{}", out.stderr);
    assert_shown_escaped("pin stderr", &out.stderr);
    // the TOML on standard output: the names escaped in TOML's own notation, read back exactly
    let raw: Vec<char> = out
        .stdout
        .chars()
        .filter(|&c| c != '\n' && pinprobe::report::is_escaped(c))
        .collect();
    assert!(
        raw.is_empty(),
        "raw {raw:?} in the profile:\n{}",
        out.stdout
    );
    assert!(out.stdout.contains(r"\u2066"), "{}", out.stdout);
    let profile =
        Profile::parse(&out.stdout, "stdout").unwrap_or_else(|e| panic!("{e}\n{}", out.stdout));
    let labels: Vec<&str> = profile.pinsets[0]
        .pins
        .iter()
        .filter_map(|e| e.label.as_deref())
        .collect();
    assert!(
        labels.iter().any(|l| l.contains(LEAF_CN)),
        "the leaf's label keeps its CN exactly: {labels:?}"
    );
    assert!(
        profile.pinsets[0]
            .expect_issuer_orgs
            .iter()
            .any(|o| o == ISSUER_O),
        "{:?}",
        profile.pinsets[0].expect_issuer_orgs
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_stays_well_formed_and_shows_hostile_names_escaped() {
    let h = hostile_pki();
    let server = serve(&h.leaf, http(200, "OK")).await;
    let port = server.port();
    let out = Probe::new()
        .profile(&stale_profile(port))
        .cacert(&h.root)
        .resolve(port)
        .args(["--format", "junit"])
        .run()
        .await;
    out.assert_code(1);
    let xml = &out.stdout;
    let forbidden: Vec<char> = xml
        .chars()
        .filter(|&c| {
            matches!(c, '\0'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '\u{fffe}' | '\u{ffff}')
        })
        .collect();
    assert!(forbidden.is_empty(), "{forbidden:?} in\n{xml}");
    let doc = roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("JUnit is not XML ({e}):\n{xml}"));
    let text: String = doc
        .descendants()
        .flat_map(|n| {
            let attributes: Vec<String> = n.attributes().map(|a| a.value().to_string()).collect();
            attributes.into_iter().chain(n.text().map(str::to_string))
        })
        .collect::<Vec<String>>()
        .join("\n");
    assert_shown_escaped("junit", &text);
    let report = quick_junit::Report::deserialize_from_str(xml)
        .unwrap_or_else(|e| panic!("JUnit does not parse ({e}):\n{xml}"));
    assert_eq!(report.test_suites[0].failures, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_keeps_hostile_names_exactly() {
    let h = hostile_pki();
    let server = serve(&h.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&h.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    out.assert_code(0);
    // the serializer escapes the C0 controls (it passes the C1 controls and bidirectional
    // characters on, as JSON allows)
    assert!(!out.stdout.contains(['\x1b', '\r']), "{}", out.stdout);
    let r = out.result();
    let leaf = &r["chain"][0];
    let subject = text(&leaf["subject"], "subject");
    let issuer = text(&leaf["issuer"], "issuer");
    assert!(subject.contains(LEAF_CN), "{subject:?}");
    assert!(subject.contains(LEAF_O), "{subject:?}");
    assert!(issuer.contains(ISSUER_CN), "{issuer:?}");
    assert!(issuer.contains(ISSUER_O), "{issuer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxys_answer_is_shown_escaped() {
    // httparse lets UTF-8 through in the reason and the header values: bidirectional and C1
    // controls reach the report that way
    let answer = "HTTP/1.1 407 Proxy Authentication Required\u{202e}\r\n\
                  Proxy-Authenticate: Basic realm=\"lab\u{202e}\u{9b}2J\"\r\n\
                  Via: 1.1 evil\u{9d}0;pwned\u{9c}\r\n\
                  Server: squid\u{85}Testing connection with https://bank.example/ ... [OK]\r\n\
                  Content-Length: 0\r\n\r\n";
    let proxy = LabProxy::start(ProxyBehaviour::Answer(answer.as_bytes().to_vec()))
        .await
        .expect("lab proxy");
    let port = closed_port().expect("a closed port");
    for verbose in [false, true] {
        let mut probe = Probe::new().args(["--proxy", &proxy.url()]).endpoint(port);
        if verbose {
            probe = probe.args(["-v"]);
        }
        let out = probe.run().await;
        out.assert_code(1);
        assert!(out.stdout.contains("proxy-auth-required"), "{}", out.stdout);
        assert_nothing_raw("proxy answer", &format!("{}{}", out.stdout, out.stderr));
        if verbose {
            assert!(
                out.stdout.contains(r"Via: 1.1 evil\u{9d}0;pwned\u{9c}"),
                "{}",
                out.stdout
            );
            assert!(out.stdout.contains(r"squid\u{85}Testing"), "{}", out.stdout);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pac_files_errors_and_answers_are_shown_escaped() {
    let probe = Probe::new();
    let pac = probe.file(
        "evil.pac",
        "function FindProxyForURL(url, host) {\n\
         \x20 if (host == \"a.test\") throw new Error(\"boom\\r\\n\\x1b[32mTesting connection with https://bank.example/ ... [OK]\\u202e\");\n\
         \x20 return \"PROXY \\x1b]0;pwned\\x07\\u202e:3128\\r\\nTesting connection with https://bank.example/ ... [OK]\";\n\
         }\n",
    );
    let port = closed_port().expect("a closed port");
    let out = probe
        .args(flag("--pac", &pac))
        .args([
            "-v".to_string(),
            "--resolve".into(),
            format!("a.test:{port}:127.0.0.1"),
            "--resolve".into(),
            format!("{HOST}:{port}:127.0.0.1"),
            format!("https://a.test:{port}/"),
            url(port),
        ])
        .run()
        .await;
    out.assert_code(1);
    assert!(out.stdout.contains("pac-failed"), "{}", out.stdout);
    assert_nothing_raw("PAC", &format!("{}{}", out.stdout, out.stderr));
    assert!(
        out.stdout.contains(r"boom\r\n\x1b[32mTesting connection"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(r"\u{202e}:3128\r\nTesting connection"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("    route pac"), "{}", out.stdout);
}
