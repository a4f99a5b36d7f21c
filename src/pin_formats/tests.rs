//! Readers on good and malformed input (each problem with its position), writers, and round
//! trips through every format that can hold a sample.

use super::*;

// SPKI pins of DigiCert Global Root G2 and G3 and Microsoft RSA Root CA 2017 (pins/mde.toml)
const G2: &str = "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=";
const G3: &str = "uUwZgwDOxcBXrQcntwu+kYFpkiVkOaezL0WYEZ3anJc=";
const MS: &str = "svcpi1K/LDysTd/nLeTWgqxYlXWVmC8rYjAa9ZfGmcU=";
// a digest whose base64 starts with '/': 0xfc 0x07 0x07 ...
const SLASH: &str = "/AcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fn pin(b64: &str) -> Pin {
    Pin::parse(&format!("sha256/{b64}")).unwrap()
}

fn labelled(b64: &str, label: Option<&str>) -> PinEntry {
    PinEntry {
        pin: pin(b64),
        label: label.map(str::to_string),
        source: None,
    }
}

/// (name, pins with labels, deny with labels) of each set, for comparing.
type Shape = (
    String,
    Vec<(String, Option<String>)>,
    Vec<(String, Option<String>)>,
);

fn shape(sets: &[ForeignSet]) -> Vec<Shape> {
    let list = |pins: &[PinEntry]| {
        pins.iter()
            .map(|p| (p.pin.to_base64(), p.label.clone()))
            .collect::<Vec<_>>()
    };
    sets.iter()
        .map(|s| (s.name.clone(), list(&s.pins), list(&s.deny)))
        .collect()
}

fn set(name: &str, pins: &[(&str, Option<&str>)]) -> Shape {
    (
        name.to_string(),
        pins.iter()
            .map(|(b, l)| (b.to_string(), l.map(str::to_string)))
            .collect(),
        Vec::new(),
    )
}

fn ok(format: PinFormat, text: &str) -> Vec<ForeignSet> {
    read(format, text, "in.txt").unwrap_or_else(|e| panic!("{format}: {e}\n{text}"))
}

fn err(format: PinFormat, text: &str) -> String {
    match read(format, text, "in.txt") {
        Ok(sets) => panic!("{format}: read {:?} from\n{text}", shape(&sets)),
        Err(e) => e.to_string(),
    }
}

fn assert_has(got: &str, want: &str) {
    assert!(got.contains(want), "want {want:?} in:\n{got}");
}

// ---- OkHttp ----

#[test]
fn okhttp_lines_with_comments_and_labels() {
    let text = format!(
        "# pins for the Defender endpoints\n\nsha256/{G2}  // DigiCert Global Root G2\n  sha256/{G3}\n// a backup\nsha256/{SLASH} # odd digest\n"
    );
    assert_eq!(
        shape(&ok(PinFormat::Okhttp, &text)),
        vec![set(
            "in",
            &[
                (G2, Some("DigiCert Global Root G2")),
                (G3, None),
                (SLASH, Some("odd digest"))
            ]
        )]
    );
}

#[test]
fn okhttp_kotlin_and_java_code_gives_one_set_per_host() {
    let kotlin = format!(
        r#"import okhttp3.CertificatePinner

private const val BACKUP: String = "sha256/{MS}" // offline backup key

val pinner = CertificatePinner.Builder()
    .add("*.cp.wd.microsoft.com", "sha256/{G2}") // DigiCert Global Root G2
    .add(
        "**.events.data.microsoft.com",
        "sha256/{G2}",
        "sha256/{G3}", // DigiCert Global Root G3
        BACKUP,
    )
    .add("*.cp.wd.microsoft.com", BACKUP)
    .build()
val client = OkHttpClient.Builder().certificatePinner(pinner).build()
"#
    );
    assert_eq!(
        shape(&ok(PinFormat::Okhttp, &kotlin)),
        vec![
            set(
                "*.cp.wd.microsoft.com",
                &[
                    (G2, Some("DigiCert Global Root G2")),
                    (MS, Some("offline backup key"))
                ]
            ),
            set(
                "**.events.data.microsoft.com",
                &[
                    (G2, None),
                    (G3, Some("DigiCert Global Root G3")),
                    (MS, Some("offline backup key"))
                ]
            ),
        ]
    );

    // OkHttp's own documentation example, in Java
    let java = format!(
        "String hostname = \"publicobject.com\";\nCertificatePinner certificatePinner = new CertificatePinner.Builder()\n    .add(hostname, \"sha256/{G2}\")\n    .build();\n"
    );
    assert_eq!(
        shape(&ok(PinFormat::Okhttp, &java)),
        vec![set("publicobject.com", &[(G2, None)])]
    );

    // pin strings outside a call join the set named after the file
    let list = format!("val pins = listOf(\n    \"sha256/{G2}\",\n    \"sha256/{G3}\",\n)\n");
    assert_eq!(
        shape(&ok(PinFormat::Okhttp, &list)),
        vec![set("in", &[(G2, None), (G3, None)])]
    );
}

#[test]
fn okhttp_problems_name_line_and_column() {
    let cases = [
        (
            format!("sha256/{G2}\nsha1/DmxUShsZuNiqPQsX2Oi9uv2sCnw=\n"),
            "in.txt:2: column 1: \"sha1/DmxUShsZuNiqPQsX2Oi9uv2sCnw=\" is a SHA-1 pin",
        ),
        (
            format!("  sha256//{G2}\n"),
            "in.txt:1: column 3: \"sha256//i7WT",
        ),
        ("sha256/abc\n".to_string(), "in.txt:1: column 1: \"sha256/abc\" is not a valid pin: bad base64"),
        (
            format!("sha256/{G2} extra\n"),
            "in.txt:1: column 53: unexpected \"extra\" after the pin",
        ),
        (
            format!("{G2}\n"),
            "is not an OkHttp pin: expected sha256/<base64>",
        ),
        (
            format!("CertificatePinner.Builder()\n    .add(\"a.example\", \"sha256/{G2}\")\n    .add(\"a.example\", \"sha256/AAAA\")\n"),
            "in.txt:3: column 23: \"sha256/AAAA\" is not a valid pin",
        ),
        (
            format!(".add(host, \"sha256/{G2}\")\n"),
            "in.txt:1: column 6: the host of add() is `host`",
        ),
        (
            "CertificatePinner.Builder()\n  .add(\"a.example\", BuildConfig.PIN)\n  .build()\n".to_string(),
            "in.txt:2: column 21: argument 2 of add(\"a.example\", ...) is `BuildConfig.PIN`, not a pin",
        ),
    ];
    for (text, want) in cases {
        assert_has(&err(PinFormat::Okhttp, &text), want);
    }
    // the curl form is named as such
    assert_has(
        &err(PinFormat::Okhttp, &format!("sha256//{G2}\n")),
        "is curl's form (sha256//)",
    );
}

#[test]
fn every_problem_of_a_file_is_listed_with_its_line() {
    let text = format!("sha256/{G2}\nsha256/bad\n\nsha256/worse\n");
    let got = err(PinFormat::Okhttp, &text);
    assert!(
        got.starts_with("in.txt:2: column 1: \"sha256/bad\""),
        "{got}"
    );
    assert_has(&got, "\nin.txt:4: column 1: \"sha256/worse\"");

    let many: String = (0..30).map(|i| format!("bad{i}\n")).collect();
    let got = err(PinFormat::Okhttp, &many);
    assert_eq!(got.lines().count(), PROBLEMS_LISTED + 1, "{got}");
    assert_has(&got, "in.txt: and 10 more problems");
}

// ---- curl ----

#[test]
fn curl_pinnedpubkey_strings() {
    let want = vec![set("in", &[(G2, None), (G3, None), (SLASH, None)])];
    for text in [
        format!("sha256//{G2};sha256//{G3};sha256//{SLASH}\n"),
        format!("# staging\nsha256//{G2} ; sha256//{G3} ;sha256//{SLASH};\n"),
        format!("--pinnedpubkey 'sha256//{G2};sha256//{G3};sha256//{SLASH}'"),
        format!("pinnedpubkey = \"sha256//{G2};sha256//{G3}\"\nsha256//{SLASH}\n"),
    ] {
        assert_eq!(shape(&ok(PinFormat::Curl, &text)), want, "{text}");
    }
}

#[test]
fn curl_problems_name_the_entry_and_column() {
    let cases = [
        (
            format!("sha256//{G2};sha256/{G3}\n"),
            "in.txt:1: entry 2 (column 54): \"sha256/uUwZ",
        ),
        (
            format!("sha256//{G2};;sha256//{G3}\n"),
            "in.txt:1: entry 2 (column 54) is empty",
        ),
        (
            format!("\nsha256//{G2}; /etc/pki/server.pub\n"),
            "in.txt:2: entry 2 (column 55): \"/etc/pki/server.pub\" is not a curl pin",
        ),
        (
            "sha256//AAAA\n".to_string(),
            "in.txt:1: entry 1 (column 1): \"sha256//AAAA\" is not a valid pin",
        ),
    ];
    for (text, want) in cases {
        assert_has(&err(PinFormat::Curl, &text), want);
    }
    assert_has(
        &err(PinFormat::Curl, &format!("sha256//{G2};sha256/{G3}")),
        "one slash",
    );
}

// ---- HPKP ----

const GITHUB_2016: &str = "Public-Key-Pins: max-age=5184000; pin-sha256=\"WoiWRyIOVNa9ihaBciRSC7XHjliYS9VwUGOIud4PB18=\"; pin-sha256=\"RRM1dGqnDFsCJXBTHky16vi1obOlCgFFn/yOhI/y+ho=\"; pin-sha256=\"k2v657xBsOVe1PQRwOsHsw3bsGT2VzIqz5K+59sNQws=\"; pin-sha256=\"K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=\"; pin-sha256=\"IQBnNBEiFuhj+8x6X8XLgh01V9Ic5/V3IRQLNFFc7v4=\"; pin-sha256=\"iie1VXtL7HzAMF+/PVPR9xzT80kQxdZeJ+zduCB3uj0=\"; pin-sha256=\"LvRiGEjRqfzurezaWuj8Wie2gyHMrW5Q06LspMnox7A=\"; includeSubDomains";

#[test]
fn hpkp_header_with_its_directives() {
    let sets = ok(PinFormat::Hpkp, GITHUB_2016);
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].pins.len(), 7);
    assert_eq!(
        sets[0].pins[0].pin.to_base64(),
        "WoiWRyIOVNa9ihaBciRSC7XHjliYS9VwUGOIud4PB18="
    );
    let d = &sets[0].details;
    assert_eq!(
        (d.max_age, d.include_subdomains, d.report_only),
        (Some(5_184_000), true, false)
    );
    assert_eq!(
        d.description.as_deref(),
        Some("Public-Key-Pins header with max-age=5184000; includeSubDomains")
    );

    let report_only = format!(
        "public-key-pins-report-only: pin-sha256=\"{G2}\";pin-sha256={G3}; report-uri=\"https://example.com/hpkp;report\"\n"
    );
    let sets = ok(PinFormat::Hpkp, &report_only);
    assert_eq!(shape(&sets), vec![set("in", &[(G2, None), (G3, None)])]);
    assert!(sets[0].details.report_only);
    assert_eq!(
        sets[0].details.report_uri.as_deref(),
        Some("https://example.com/hpkp;report")
    );
    // the value alone, as in a server's configuration
    let value = format!(
        "# nginx add_header value\npin-sha256=\"{G2}\"; pin-sha256=\"{G3}\"; max-age=600\n"
    );
    assert_eq!(ok(PinFormat::Hpkp, &value)[0].details.max_age, Some(600));
}

#[test]
fn hpkp_problems_name_the_directive_and_column() {
    let cases = [
        (
            format!("Public-Key-Pins: pin-sha256=\"{G2}\"; pin-sha1=\"DmxUShsZuNiqPQsX2Oi9uv2sCnw=\"; max-age=60"),
            "in.txt:1: directive 2 (column 77): pin-sha1 is not supported",
        ),
        (
            format!("pin-sha256=\"{G2}\"; max-age=60; preload"),
            "in.txt:1: directive 3 (column 72): unknown directive \"preload\"",
        ),
        (
            format!("pin-sha256=\"{G2}\"; max-age=two-months"),
            "directive 2 (column 60): max-age=two-months is not a number of seconds",
        ),
        (
            "pin-sha256=\"AAAA\"; max-age=60".to_string(),
            "in.txt:1: directive 1 (column 1): pin-sha256=\"AAAA\" is not a valid pin",
        ),
        (
            format!("Strict-Transport-Security: max-age=31536000\nPublic-Key-Pins: pin-sha256=\"{G2}\""),
            "in.txt:1: \"Strict-Transport-Security\" is not an HPKP header",
        ),
        (
            format!("pin-sha256=\"{G2}\"\n\npin-sha256=\"{G3}\""),
            "in.txt:3: a second header (the first is on line 1)",
        ),
        (
            "Public-Key-Pins: max-age=60; includeSubDomains".to_string(),
            "in.txt:1: the header has no pin-sha256 directive",
        ),
    ];
    for (text, want) in cases {
        assert_has(&err(PinFormat::Hpkp, &text), want);
    }
}

// ---- hex ----

#[test]
fn hex_lines_with_colons_labels_and_sets() {
    let g2_hex = pin(G2).to_hex();
    let colons = ::hex::decode(pin(G3).to_hex())
        .unwrap()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let text = format!(
        "# from openssl\n{g2_hex}  # DigiCert Global Root G2\n\n# pinset backup\n{colons}\n"
    );
    assert_eq!(
        shape(&ok(PinFormat::Hex, &text)),
        vec![
            set("in", &[(G2, Some("DigiCert Global Root G2"))]),
            set("backup", &[(G3, None)])
        ]
    );
}

#[test]
fn hex_problems_say_what_the_digits_are() {
    let g2_hex = pin(G2).to_hex();
    let cases = [
        (
            format!("{g2_hex}\n  8bb593a9\n"),
            "in.txt:2: column 3: \"8bb593a9\" has 8 hex digits: a SHA-256 pin has 64",
        ),
        (
            "dd3bfe6d5e5e7b3c6c8d0e4a3f0a5c1e7d2b9f60\n".to_string(),
            "in.txt:1: column 1: \"dd3bfe6d5e5e7b3c6c8d0e4a3f0a5c1e7d2b9f60\" is 40 hex digits, a SHA-1 digest",
        ),
        (
            "SHA256 Fingerprint=AB:CD\n".to_string(),
            "is a certificate fingerprint, not a pin",
        ),
        (format!("sha256/{G2}\n"), "in.txt:1: column 1: \"sha256/i7WT"),
    ];
    for (text, want) in cases {
        assert_has(&err(PinFormat::Hex, &text), want);
    }
}

// ---- Chromium ----

const CHROMIUM: &str = r#"// Copyright 2012 The Chromium Authors
// This file contains the HSTS preloaded list and the static pinsets.
{
  "pinsets": [
    {
      "name": "microsoft",
      "static_spki_hashes": [
        // DigiCert Global Root G2
        "sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=",
        "sha256/svcpi1K/LDysTd/nLeTWgqxYlXWVmC8rYjAa9ZfGmcU="
      ],
      "bad_static_spki_hashes": [
        "sha256/uUwZgwDOxcBXrQcntwu+kYFpkiVkOaezL0WYEZ3anJc="
      ],
      "report_uri": "https://example.com/pkp"
    }
  ],
  "entries": [
    { "name": "cdn.x.cp.wd.microsoft.com", "policy": "custom", "pins": "microsoft" }
  ]
}
"#;

#[test]
fn chromium_pinsets_with_comments_deny_and_labels() {
    let sets = ok(PinFormat::Chromium, CHROMIUM);
    assert_eq!(
        shape(&sets),
        vec![(
            "microsoft".to_string(),
            vec![
                (G2.to_string(), Some("DigiCert Global Root G2".to_string())),
                (MS.to_string(), None)
            ],
            vec![(G3.to_string(), None)],
        )]
    );
    assert_eq!(
        sets[0].details.report_uri.as_deref(),
        Some("https://example.com/pkp")
    );
}

#[test]
fn chromium_problems_name_the_pinset_and_line() {
    let symbolic = r#"{
  "pinsets": [
    {
      "name": "google",
      "static_spki_hashes": [
        "GoogleBackup2048",
        "sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY="
      ],
      "bad_static_spki_hashes": [ "sha1/DmxUShsZuNiqPQsX2Oi9uv2sCnw=" ],
      "include_subdomains": true
    }
  ]
}"#;
    let got = err(PinFormat::Chromium, symbolic);
    assert_has(
        &got,
        "in.txt:6: column 9: pinset \"google\": static_spki_hashes[0]: \"GoogleBackup2048\" is a symbolic name",
    );
    assert_has(
        &got,
        "\nin.txt:9: column 35: pinset \"google\": bad_static_spki_hashes[0]: \"sha1/",
    );
    assert_has(
        &got,
        "\nin.txt:10: column 7: pinset \"google\": unknown member \"include_subdomains\"",
    );

    let cases = [
        (
            "// comment\n{\"pinsets\": [\n  {\"name\": \"a\", \"static_spki_hashes\": [\"sha256/x\"]}\n]}",
            "in.txt:3: column 40: pinset \"a\": static_spki_hashes[0]: \"sha256/x\" is not a valid pin",
        ),
        (
            "// comment\n{\"pinsets\": [\n  {\"name\": \"a\" \"static_spki_hashes\": []}\n]}",
            "in.txt:3: column 16: expected `,` or `}` (JSON; lines starting with // are comments)",
        ),
        ("{\"entries\": []}", "in.txt: no \"pinsets\" member"),
        (
            "{\"pinsets\": [{\"static_spki_hashes\": []}]}",
            "in.txt:1: column 14: pinsets[0] has no \"name\"",
        ),
        (
            "{\"pinsets\": [{\"name\": \"a\", \"static_spki_hashes\": []}]}",
            "in.txt:1: pinset \"a\" has no hashes",
        ),
    ];
    for (text, want) in cases {
        assert_has(&err(PinFormat::Chromium, text), want);
    }
}

#[test]
fn chromium_syntax_errors_say_where_as_serde_json_does() {
    for (text, want) in [
        ("{\"a\": [1, 2}", "in.txt:1: column 12: expected `,` or `]`"),
        ("// c\n{\"a\" 1}", "in.txt:2: column 6: expected `:`"),
        ("[1] x", "in.txt:1: column 5: trailing characters"),
        ("{a: 1}", "in.txt:1: column 2: key must be a string"),
        ("", "in.txt:1: column 1: EOF while parsing a value"),
        (
            &"[".repeat(10_000),
            "in.txt:1: column 10000: EOF while parsing a list",
        ),
    ] {
        assert_has(&err(PinFormat::Chromium, text), want);
    }
    assert_has(
        &err(
            PinFormat::Chromium,
            "{\"pinsets\": [{\"name\": \"a\", \"static_spki_hashes\": [\"\\ud800\"]}]}",
        ),
        "in.txt:1: column 51: pinset \"a\": static_spki_hashes[0]: not a valid JSON string (",
    );
    // values are read one level at a time: deep nesting costs no stack
    let deep = format!(
        "{{\"pinsets\": [{{\"name\": \"a\", \"static_spki_hashes\": {}{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_has(
        &err(PinFormat::Chromium, &deep),
        "in.txt:1: column 51: pinset \"a\": static_spki_hashes[0] is an array",
    );
}

#[test]
fn chromium_members_keep_file_order_and_duplicates() {
    let text = format!(
        "{{\"pinsets\": [{{\"name\": \"a\",\n \"static_spki_hashes\": [\"sha256/{G2}\"],\n \"static_spki_hashes\": [\"sha256/{MS}\"]}}]}}"
    );
    let sets = ok(PinFormat::Chromium, &text);
    assert_eq!(
        shape(&sets),
        vec![(
            "a".to_string(),
            vec![(G2.to_string(), None), (MS.to_string(), None)],
            vec![],
        )]
    );
}

// ---- Android ----

const ANDROID: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<network-security-config xmlns:tools="http://schemas.android.com/tools">
    <base-config cleartextTrafficPermitted="false" />
    <domain-config>
        <domain includeSubdomains="true">cp.wd.microsoft.com</domain>
        <domain>events.data.microsoft.com</domain>
        <pin-set expiration="2027-01-01">
            <!-- DigiCert Global Root G2 -->
            <pin digest="SHA-256">i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=</pin>
            <pin digest="SHA-256">svcpi1K/LDysTd/nLeTWgqxYlXWVmC8rYjAa9ZfGmcU=</pin>
        </pin-set>
        <domain-config>
            <domain>eu.cp.wd.microsoft.com</domain>
            <pin-set>
                <pin digest="SHA-256">uUwZgwDOxcBXrQcntwu+kYFpkiVkOaezL0WYEZ3anJc=</pin>
            </pin-set>
        </domain-config>
    </domain-config>
    <domain-config cleartextTrafficPermitted="true">
        <domain>localhost</domain>
    </domain-config>
</network-security-config>
"#;

#[test]
fn android_domain_configs_become_sets() {
    let sets = ok(PinFormat::Android, ANDROID);
    assert_eq!(
        shape(&sets),
        vec![
            set(
                "cp.wd.microsoft.com",
                &[(G2, Some("DigiCert Global Root G2")), (MS, None)]
            ),
            set("eu.cp.wd.microsoft.com", &[(G3, None)]),
        ]
    );
    let d = &sets[0].details;
    assert_eq!(d.expiration.as_deref(), Some("2027-01-01"));
    assert_eq!(
        d.domains,
        vec![
            Domain {
                name: "cp.wd.microsoft.com".into(),
                include_subdomains: true
            },
            Domain {
                name: "events.data.microsoft.com".into(),
                include_subdomains: false
            },
        ]
    );
    assert_eq!(
        d.description.as_deref(),
        Some("Android domain-config for cp.wd.microsoft.com (and subdomains), events.data.microsoft.com; the pins expire on 2027-01-01")
    );
}

#[test]
fn android_problems_name_the_line() {
    let wrap = |body: &str| {
        format!("<network-security-config>\n  <domain-config>\n    <domain>a.example</domain>\n{body}  </domain-config>\n</network-security-config>\n")
    };
    let cases = [
        (
            wrap(&format!("    <pin-set>\n      <pin digest=\"SHA-1\">DmxUShsZuNiqPQsX2Oi9uv2sCnw=</pin>\n      <pin digest=\"SHA-256\">{G2}</pin>\n    </pin-set>\n")),
            "in.txt:5: digest=\"SHA-1\" is not supported",
        ),
        (
            wrap("    <pin-set>\n      <pin digest=\"SHA-256\">AAAA</pin>\n    </pin-set>\n"),
            "in.txt:5: <pin> \"AAAA\" is not a valid pin",
        ),
        (
            wrap(&format!("    <pin-set expiration=\"01/01/2027\">\n      <pin digest=\"SHA-256\">{G2}</pin>\n    </pin-set>\n")),
            "in.txt:4: expiration=\"01/01/2027\" is not a date",
        ),
        (
            wrap(&format!("    <pin-set>\n      <certificates src=\"system\"/>\n      <pin digest=\"SHA-256\">{G2}</pin>\n    </pin-set>\n")),
            "in.txt:5: unknown element <certificates> in <pin-set>",
        ),
        (
            format!("<network-security-config>\n  <base-config>\n    <pin-set><pin digest=\"SHA-256\">{G2}</pin></pin-set>\n  </base-config>\n</network-security-config>"),
            "in.txt:3: <pin-set> inside <base-config>",
        ),
        (
            "<network-security-config>\n  <domain-config>\n</network-security-config>".to_string(),
            "in.txt:3: column 1: not well-formed XML",
        ),
        ("<manifest/>".to_string(), "in.txt:1: the root element is <manifest>"),
    ];
    for (text, want) in cases {
        assert_has(&err(PinFormat::Android, &text), want);
    }
}

// ---- TOML ----

#[test]
fn toml_reads_the_pin_sets_of_a_profile() {
    let sets = ok(PinFormat::Toml, crate::profile::BUNDLED_MDE);
    let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["mde-agent", "mde-agent-packages", "microsoft-cloud"]
    );
    let sets: Vec<ForeignSet> = sets.into_iter().skip(2).collect();
    assert!(sets[0]
        .pins
        .iter()
        .all(|p| p.label.is_some() && p.source.is_some()));
    assert_eq!(
        sets[0].details.expect_issuer_orgs,
        vec!["Microsoft Corporation", "DigiCert Inc"]
    );
    assert_has(
        &err(PinFormat::Toml, "[pinsets.a]\npins = [\"sha256/abc\"]\n"),
        "in.txt:2: \"sha256/abc\" is not a valid pin",
    );
    assert_has(
        &err(PinFormat::Toml, "description = \"x\"\n"),
        "in.txt: no pins found",
    );
}

#[test]
fn empty_input_says_what_was_expected() {
    for format in PinFormat::ALL {
        let text = match format {
            PinFormat::Chromium => "{\"pinsets\": []}",
            PinFormat::Android => "<network-security-config/>",
            _ => "\n",
        };
        let got = err(format, text);
        assert!(
            got.starts_with("in.txt: no pins found: expected"),
            "{format}: {got}"
        );
    }
}

// ---- writers ----

fn sample() -> Vec<PinEntry> {
    vec![
        labelled(G2, Some("DigiCert Global Root G2")),
        labelled(SLASH, None),
    ]
}

#[test]
fn writers_give_each_tools_syntax() {
    // the set's name is not a host: the formats that pin by host name the endpoint's
    let pins = sample();
    let g2_hex = pin(G2).to_hex();
    let slash_hex = pin(SLASH).to_hex();
    let cases = [
        (
            PinFormat::Okhttp,
            format!("CertificatePinner.Builder()\n    .add(\"cdn.example\", \"sha256/{G2}\")  // DigiCert Global Root G2\n    .add(\"cdn.example\", \"sha256/{SLASH}\")\n    .build()\n"),
        ),
        (PinFormat::Curl, format!("sha256//{G2};sha256//{SLASH}\n")),
        (
            PinFormat::Hpkp,
            format!("Public-Key-Pins: pin-sha256=\"{G2}\"; pin-sha256=\"{SLASH}\"; max-age=5184000\n# RFC 7469 2.5: a browser keeps these pins only with a backup pin too, the pin-sha256 of a key not in this chain\n"),
        ),
        (
            PinFormat::Hex,
            format!("{g2_hex}  # DigiCert Global Root G2\n{slash_hex}\n"),
        ),
        (
            PinFormat::Toml,
            format!("[pinsets.cdn-example]\npins = [\n  {{ pin = \"sha256/{G2}\", label = \"DigiCert Global Root G2\" }},\n  {{ pin = \"sha256/{SLASH}\" }},\n]\n"),
        ),
        (
            PinFormat::Chromium,
            format!("{{\n  \"pinsets\": [\n    {{\n      \"name\": \"cdn-example\",\n      \"static_spki_hashes\": [\n        // DigiCert Global Root G2\n        \"sha256/{G2}\",\n        \"sha256/{SLASH}\"\n      ]\n    }}\n  ],\n  \"entries\": [\n    {{ \"name\": \"cdn.example\", \"include_subdomains\": false, \"pins\": \"cdn-example\" }}\n  ]\n}}\n"),
        ),
        (
            PinFormat::Android,
            format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n    <domain-config>\n        <domain>cdn.example</domain>\n        <pin-set>\n            <!-- DigiCert Global Root G2 -->\n            <pin digest=\"SHA-256\">{G2}</pin>\n            <pin digest=\"SHA-256\">{SLASH}</pin>\n        </pin-set>\n    </domain-config>\n</network-security-config>\n"),
        ),
    ];
    for (format, want) in cases {
        assert_eq!(
            write(
                format,
                "cdn-example",
                &pins,
                "https://CDN.example:8443/ping"
            ),
            want,
            "{format}"
        );
    }
}

#[test]
fn the_drift_block_names_the_endpoints_host_or_says_why_not() {
    let pins = sample();
    let android = write(PinFormat::Android, "lab-test", &pins, "https://lab.test/");
    assert_has(&android, "<domain>lab.test</domain>");
    assert!(!android.contains("lab-test"), "{android}");
    let okhttp = write(PinFormat::Okhttp, "lab-test", &pins, "https://[::1]:8443/");
    assert_has(&okhttp, &format!(".add(\"::1\", \"sha256/{G2}\")"));
    for format in [PinFormat::Android, PinFormat::Okhttp, PinFormat::Chromium] {
        let got = write(format, "lab-test", &pins, "not a url");
        assert!(
            got.starts_with(&format!(
                "no {format} pins for not a url: pin set \"lab-test\" names no host"
            )),
            "{got}"
        );
    }
}

#[test]
fn formats_that_pin_by_host_refuse_a_set_without_one() {
    let bare = ForeignSet {
        name: "lab-test".into(),
        pins: sample(),
        ..ForeignSet::default()
    };
    for format in PinFormat::ALL {
        let got = write_sets(format, std::slice::from_ref(&bare), None);
        if !format.pins_by_host() {
            assert!(got.is_ok(), "{format}");
            continue;
        }
        let got = got.unwrap_err().to_string();
        assert_has(&got, "pin set \"lab-test\" names no host");
        assert_has(&got, "--host HOST (--host lab-test=HOST");
    }

    let with = |name: &str, hosts: &[&str]| ForeignSet {
        name: name.into(),
        pins: sample(),
        details: SetDetails {
            domains: hosts.iter().map(|h| Domain::parse(h).unwrap()).collect(),
            ..SetDetails::default()
        },
        ..ForeignSet::default()
    };
    // OkHttp's one-level wildcard: only OkHttp says it
    let wild = [with("w", &["*.example.com"])];
    assert!(write_sets(PinFormat::Okhttp, &wild, None)
        .unwrap()
        .contains(".add(\"*.example.com\""));
    for format in [PinFormat::Android, PinFormat::Chromium] {
        let got = write_sets(format, &wild, None).unwrap_err().to_string();
        assert_has(&got, "pin set \"w\" is for *.example.com, one level below example.com, which only OkHttp can say");
    }
    // one set per host where the consumer refuses a host twice
    let twice = [with("a", &["x.example"]), with("b", &["**.x.example"])];
    for format in [PinFormat::Android, PinFormat::Chromium] {
        let got = write_sets(format, &twice, None).unwrap_err().to_string();
        assert_has(&got, "x.example is in pin sets \"a\" and \"b\"");
    }
    assert!(write_sets(PinFormat::Okhttp, &twice, None).is_ok());
}

#[test]
fn a_host_is_a_name_a_pattern_or_an_address() {
    for (text, want) in [
        ("API.Example.com", "api.example.com"),
        ("**.example.com", "**.example.com"),
        ("*.example.com", "*.example.com"),
        ("::1", "::1"),
        ("192.0.2.1", "192.0.2.1"),
    ] {
        assert_eq!(Domain::parse(text).unwrap().to_string(), want, "{text}");
    }
    for (text, want) in [
        ("lab.test:8443", "has a port"),
        ("https://lab.test/", "is not a host"),
        ("a*.example.com", "is not a host"),
        ("", "is not a host"),
        ("example..com", "is not a host"),
    ] {
        let got = Domain::parse(text).unwrap_err();
        assert_has(&got, want);
    }
}

#[test]
fn an_hpkp_header_needs_room_for_a_backup_pin() {
    let one = ForeignSet {
        name: "single".into(),
        pins: vec![labelled(G2, None)],
        ..ForeignSet::default()
    };
    let got = write_sets(PinFormat::Hpkp, std::slice::from_ref(&one), None)
        .unwrap_err()
        .to_string();
    assert_has(&got, "pin set \"single\" has one pin");
    assert_has(&got, "backup pin");
    // the other formats take one pin (OkHttp and Android once they have a host)
    assert!(write_sets(PinFormat::Curl, std::slice::from_ref(&one), None).is_ok());
}

#[test]
fn hosts_are_read_where_each_format_keeps_them() {
    let okhttp = ok(PinFormat::Okhttp, &format!("CertificatePinner.Builder().add(\"**.Example.com\", \"sha256/{G2}\").add(\"*.a.example\", \"sha256/{G3}\").build()\nval spare = \"sha256/{MS}\"\n"));
    let domains = |sets: &[ForeignSet]| -> Vec<Vec<String>> {
        sets.iter()
            .map(|s| s.details.domains.iter().map(Domain::to_string).collect())
            .collect()
    };
    assert_eq!(
        domains(&okhttp),
        [vec!["**.example.com"], vec!["*.a.example"], vec![]]
    );
    assert_eq!(
        domains(&ok(PinFormat::Chromium, CHROMIUM)),
        [vec!["cdn.x.cp.wd.microsoft.com"]]
    );
    let old_style = CHROMIUM.replace(
        "\"policy\": \"custom\",",
        "\"include_subdomains\": false, \"include_subdomains_for_pinning\": true,",
    );
    assert_eq!(
        domains(&ok(PinFormat::Chromium, &old_style)),
        [vec!["**.cdn.x.cp.wd.microsoft.com"]]
    );
    let profile = format!("[pinsets.a]\npins = [\"sha256/{G2}\"]\n[pinsets.b]\npins = [\"sha256/{G3}\"]\n[[endpoints]]\nurl = \"https://one.example:8443/x\"\npinset = \"a\"\n[[endpoints]]\nurl = \"https://two.example/\"\npinset = \"a\"\n");
    let sets = ok(PinFormat::Toml, &profile);
    assert_eq!(domains(&sets), [vec!["one.example", "two.example"], vec![]]);
    assert_eq!(
        sets[0].details.endpoints,
        ["https://one.example:8443/x", "https://two.example/"]
    );
}

#[test]
fn a_converted_profile_probes_the_hosts_its_sets_are_for() {
    let sets = ok(PinFormat::Android, ANDROID);
    let written = write_sets(PinFormat::Toml, &sets, Some("from android")).unwrap();
    let profile = crate::profile::Profile::parse(&written, "p.toml").unwrap();
    let endpoints: Vec<(&str, Option<&str>)> = profile
        .endpoints
        .iter()
        .map(|e| (e.url.as_str(), e.pinset.as_deref()))
        .collect();
    assert_eq!(
        endpoints,
        [
            ("https://cp.wd.microsoft.com/", Some("cp.wd.microsoft.com")),
            (
                "https://events.data.microsoft.com/",
                Some("cp.wd.microsoft.com")
            ),
            (
                "https://eu.cp.wd.microsoft.com/",
                Some("eu.cp.wd.microsoft.com")
            ),
        ]
    );
    // a set without hosts is for --pins FILE --pinset NAME: no endpoint
    let curl = ok(PinFormat::Curl, &format!("sha256//{G2}\n"));
    let written = write_sets(PinFormat::Toml, &curl, None).unwrap();
    assert!(!written.contains("[[endpoints]]"), "{written}");
}

#[test]
fn the_toml_snippet_loads_as_a_profile() {
    let mut pins = sample();
    pins[1].label = Some("a \"quoted\" label\\".into());
    pins[1].source = Some("pinprobe inspect".into());
    let snippet = write(
        PinFormat::Toml,
        "weird name \"x\"",
        &pins,
        "https://x.example/",
    );
    let profile = crate::profile::Profile::parse(&snippet, "snippet.toml").unwrap();
    assert_eq!(profile.pinsets[0].name, "weird name \"x\"");
    assert_eq!(
        profile.pinsets[0].pins[1].label.as_deref(),
        Some("a \"quoted\" label\\")
    );
    assert_eq!(
        profile.pinsets[0].pins[1].source.as_deref(),
        Some("pinprobe inspect")
    );
}

#[test]
fn write_sets_refuses_what_a_format_cannot_hold() {
    let a = ForeignSet {
        name: "a".into(),
        pins: vec![labelled(G2, None)],
        ..ForeignSet::default()
    };
    let b = ForeignSet {
        name: "b".into(),
        pins: vec![labelled(G3, None)],
        deny: vec![labelled(MS, None)],
        ..ForeignSet::default()
    };
    for format in [PinFormat::Curl, PinFormat::Hpkp] {
        let got = write_sets(format, &[a.clone(), a.clone()], None)
            .unwrap_err()
            .to_string();
        assert_has(
            &got,
            &format!("{format} holds one pin set and the input has 2 (a, a)"),
        );
    }
    for format in [
        PinFormat::Okhttp,
        PinFormat::Curl,
        PinFormat::Hpkp,
        PinFormat::Hex,
        PinFormat::Android,
    ] {
        let got = write_sets(format, std::slice::from_ref(&b), None)
            .unwrap_err()
            .to_string();
        assert_has(
            &got,
            &format!("pin set \"b\" has 1 deny pin(s), which {format} cannot express"),
        );
    }
}

// ---- round trips ----

/// What survives a trip through `format`: names only where the format has them, labels only
/// where it keeps them.
fn expected_after(format: PinFormat, sets: &[ForeignSet], file_stem: &str) -> Vec<Shape> {
    shape(sets)
        .into_iter()
        .map(|(name, pins, deny)| {
            let strip = |list: Vec<(String, Option<String>)>| {
                list.into_iter()
                    .map(|(p, l)| (p, l.filter(|_| format.keeps_labels())))
                    .collect()
            };
            // OkHttp names a set after its host pattern, which these sets are named after
            let named = sets.len() > 1
                || matches!(
                    format,
                    PinFormat::Toml | PinFormat::Chromium | PinFormat::Android | PinFormat::Okhttp
                );
            (
                if named { name } else { file_stem.to_string() },
                strip(pins),
                strip(deny),
            )
        })
        .collect()
}

#[test]
fn every_format_reads_back_what_it_wrote() {
    let pins = vec![
        labelled(G2, Some("DigiCert Global Root G2")),
        labelled(MS, Some("Microsoft RSA Root Certificate Authority 2017")),
        labelled(SLASH, None),
        labelled(G3, Some("label -- with # and // and \"quotes\" <&>")),
    ];
    let one = vec![ForeignSet {
        name: "cdn.x.cp.wd.microsoft.com".into(),
        pins: pins.clone(),
        ..ForeignSet::default()
    }];
    for format in PinFormat::ALL {
        let written = write(
            format,
            &one[0].name,
            &pins,
            "https://cdn.x.cp.wd.microsoft.com/ping",
        );
        let back =
            read(format, &written, "rt.txt").unwrap_or_else(|e| panic!("{format}: {e}\n{written}"));
        let mut want = expected_after(format, &one, "rt");
        if format == PinFormat::Android {
            // "--" cannot stand in an XML comment
            want[0].1[3].1 = Some("label - - with # and // and \"quotes\" <&>".into());
        }
        assert_eq!(shape(&back), want, "{format}:\n{written}");
    }
}

#[test]
fn a_chromium_entry_that_names_no_host_is_not_written_as_a_host() {
    // Chromium's entries are read as they are; their names become hosts only where they are
    let text = r#"{
  "pinsets": [{ "name": "microsoft", "static_spki_hashes": ["sha256/i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY="] }],
  "entries": [{ "name": "", "include_subdomains": true, "pins": "microsoft" }]
}"#;
    let sets = ok(PinFormat::Chromium, text);
    for format in [PinFormat::Android, PinFormat::Okhttp, PinFormat::Chromium] {
        let got = write_sets(format, &sets, None).unwrap_err().to_string();
        assert_has(
            &got,
            &format!("pin set \"microsoft\" is for \"\", which is not a host {format} can name: give the hosts with --host"),
        );
    }
    // a profile probes only the hosts that are URLs, and pins nothing else
    let toml = write_sets(PinFormat::Toml, &sets, None).unwrap();
    assert!(!toml.contains("[[endpoints]]"), "{toml}");
}

#[test]
fn labels_with_characters_a_format_cannot_hold_read_back() {
    // control characters and a run of dashes, as a comment of a pin file may hold them; XML
    // allows neither in a comment
    let pins = vec![
        labelled(G2, Some("Digi\u{0}Cert\u{1}G2")),
        labelled(G3, Some("G3 --- retired -")),
        labelled(MS, Some("odd \u{fffe}\u{ffff} end")),
    ];
    for format in PinFormat::ALL {
        let written = write(
            format,
            "cp.wd.microsoft.com",
            &pins,
            "https://cp.wd.microsoft.com/",
        );
        let back =
            read(format, &written, "rt.txt").unwrap_or_else(|e| panic!("{format}: {e}\n{written}"));
        let got: Vec<Pin> = back[0].pins.iter().map(|p| p.pin).collect();
        assert_eq!(got, [pin(G2), pin(G3), pin(MS)], "{format}:\n{written}");
    }
    let android = write(
        PinFormat::Android,
        "cp.wd.microsoft.com",
        &pins,
        "https://cp.wd.microsoft.com/",
    );
    assert_has(&android, "<!-- Digi Cert G2 -->");
    assert_has(&android, "<!-- G3 - - - retired -  -->");
    assert_has(&android, "<!-- odd end -->");
}

#[test]
fn several_sets_and_deny_pins_survive_the_formats_that_hold_them() {
    // named after their hosts, which OkHttp and Android name sets by
    let hosts = |name: &str| SetDetails {
        domains: vec![Domain::parse(name).unwrap()],
        ..SetDetails::default()
    };
    let sets = vec![
        ForeignSet {
            name: "cp.wd.microsoft.com".into(),
            pins: vec![labelled(G2, Some("G2")), labelled(MS, None)],
            details: hosts("cp.wd.microsoft.com"),
            ..ForeignSet::default()
        },
        ForeignSet {
            name: "events.data.microsoft.com".into(),
            pins: vec![labelled(G3, None), labelled(SLASH, Some("odd"))],
            details: hosts("events.data.microsoft.com"),
            ..ForeignSet::default()
        },
    ];
    for format in PinFormat::ALL
        .into_iter()
        .filter(|f| f.holds_several_sets())
    {
        let written = write_sets(format, &sets, Some("test")).unwrap();
        let back =
            read(format, &written, "rt.txt").unwrap_or_else(|e| panic!("{format}: {e}\n{written}"));
        let (mut got, mut want) = (shape(&back), expected_after(format, &sets, "rt"));
        if format == PinFormat::Toml {
            // a profile's sets come back in name order
            got.sort();
            want.sort();
        }
        assert_eq!(got, want, "{format}:\n{written}");
    }

    let with_deny = vec![ForeignSet {
        name: "microsoft".into(),
        pins: vec![labelled(G2, Some("G2"))],
        deny: vec![labelled(G3, Some("retired"))],
        details: SetDetails {
            report_uri: Some("https://example.com/pkp".into()),
            domains: vec![Domain::parse("microsoft.com").unwrap()],
            ..SetDetails::default()
        },
    }];
    for format in PinFormat::ALL.into_iter().filter(|f| f.holds_deny()) {
        let written = write_sets(format, &with_deny, None).unwrap();
        let back = read(format, &written, "rt.txt").unwrap();
        assert_eq!(shape(&back), shape(&with_deny), "{format}:\n{written}");
    }
}

#[test]
fn details_survive_their_own_format() {
    // HPKP: max-age, includeSubDomains, report-uri, report-only
    let sets = ok(PinFormat::Hpkp, &format!("Public-Key-Pins-Report-Only: pin-sha256=\"{G2}\"; pin-sha256=\"{G3}\"; max-age=600; includeSubDomains; report-uri=\"https://example.com/r\"\n"));
    let written = write_sets(PinFormat::Hpkp, &sets, None).unwrap();
    assert_eq!(
        written,
        format!("Public-Key-Pins-Report-Only: pin-sha256=\"{G2}\"; pin-sha256=\"{G3}\"; max-age=600; includeSubDomains; report-uri=\"https://example.com/r\"\n")
    );
    assert_eq!(ok(PinFormat::Hpkp, &written)[0].details, sets[0].details);

    // Android: every domain and the expiration
    let sets = ok(PinFormat::Android, ANDROID);
    let written = write_sets(PinFormat::Android, &sets, None).unwrap();
    let back = ok(PinFormat::Android, &written);
    assert_eq!(shape(&back), shape(&sets));
    assert_eq!(back[0].details, sets[0].details);

    // a profile: descriptions, expected issuers, sources
    let sets = ok(PinFormat::Toml, crate::profile::BUNDLED_MDE);
    let written = write_sets(PinFormat::Toml, &sets, Some("copy")).unwrap();
    let back = ok(PinFormat::Toml, &written);
    assert_eq!(shape(&back), shape(&sets));
    assert_eq!(back[0].details, sets[0].details);
    assert_eq!(
        back[0].pins.iter().map(|p| &p.source).collect::<Vec<_>>(),
        sets[0].pins.iter().map(|p| &p.source).collect::<Vec<_>>()
    );
}

#[test]
fn no_input_makes_a_reader_panic() {
    let kotlin = format!(
        "val c = 'x'; val q = '\\''; val é = \"ü\"\nCertificatePinner.Builder()\n  .add(\"ä.example\", \"sha256/{G2}\", /* x */ \"\"\"sha256/{G3}\"\"\") // ✓ label\n  .add(\n"
    );
    let samples = [
        (PinFormat::Okhttp, kotlin),
        (
            PinFormat::Hpkp,
            format!("{GITHUB_2016}; report-uri=\"https://é.example/\\\"x\""),
        ),
        (
            PinFormat::Curl,
            format!("--pinnedpubkey 'sha256//{G2}; sha256//é'"),
        ),
        (
            PinFormat::Hex,
            format!("{}  # ü\n# pinset é\nzz:ÿ\n", pin(G2).to_hex()),
        ),
        (PinFormat::Chromium, format!("{CHROMIUM}\n// ü\n")),
        (
            PinFormat::Chromium,
            "[\"\\u00e9\\ud800\\u0041\\ud83d\", \"\\é\", 1e5, -0]".to_string(),
        ),
        (
            PinFormat::Android,
            ANDROID.replace("microsoft", "micrösoft"),
        ),
        (
            PinFormat::Toml,
            format!("[pinsets.\"é\"]\npins = [{{ pin = \"sha256/{G2}\", label = \"ü\" }}]\n"),
        ),
    ];
    for (format, text) in samples {
        // every prefix, cut at each character boundary
        for (cut, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let _ = read(format, &text[..cut], "cut.txt");
        }
        for other in PinFormat::ALL {
            let _ = read(other, &text, "other.txt");
        }
    }
}

#[test]
fn a_pin_repeated_in_a_set_is_kept_once_with_the_first_label_given() {
    let (sets, dropped) = read_counted(
        PinFormat::Curl,
        &format!("sha256//{G2};sha256//{G3};sha256//{G2};sha256//{G2}"),
        "pins.txt",
    )
    .unwrap();
    assert_eq!(dropped, 2);
    assert_eq!(sets[0].pins, [labelled(G2, None), labelled(G3, None)]);

    let mut entries = vec![
        labelled(MS, None),
        labelled(G2, Some("G2")),
        labelled(MS, Some("Microsoft")),
        labelled(MS, Some("later")),
    ];
    assert_eq!(drop_duplicates(&mut entries), 2);
    assert_eq!(
        entries,
        [labelled(MS, Some("Microsoft")), labelled(G2, Some("G2"))]
    );
}

#[test]
fn long_lines_give_the_column_of_each_entry_counted_in_characters() {
    // 20,000 entries on one line, a bad one last, after a comment line with a wide character
    let good = format!("sha256//{G2}; ").repeat(20_000);
    let text = format!("# clé\n  {good}sha256//bad\n");
    let bad = text.find("sha256//bad").unwrap();
    let column = crate::profile::line_col(&text, bad).1;
    assert_has(
        &err(PinFormat::Curl, &text),
        &format!("in.txt:2: entry 20001 (column {column}): "),
    );
    let header = format!("pin-sha256=\"{G2}\"; ").repeat(20_000);
    let text = format!(
        "# clé\nPublic-Key-Pins: report-uri=\"https://é.example/\"; {header}pin-sha1=\"x\"\n"
    );
    let bad = text.find("pin-sha1").unwrap();
    let column = crate::profile::line_col(&text, bad).1;
    let got = err(PinFormat::Hpkp, &text);
    assert!(
        got.starts_with(&format!("in.txt:2: directive 20002 (column {column}): ")),
        "{got}"
    );
}

#[test]
fn code_with_thousands_of_hosts_gives_each_its_set_and_label() {
    let text: String = (0..5_000)
        .map(|i| format!("    .add(\"h{i}.example.com\", \"sha256/{G2}\") // key {i}\n"))
        .collect();
    let text = format!("val pinner = CertificatePinner.Builder()\n{text}    .build()\n");
    let sets = ok(PinFormat::Okhttp, &text);
    assert_eq!(sets.len(), 5_000);
    assert_eq!(sets[4_999].name, "h4999.example.com");
    assert_eq!(sets[4_999].pins, [labelled(G2, Some("key 4999"))]);
    for format in [PinFormat::Android, PinFormat::Chromium] {
        let written = write_sets(format, &sets, None).unwrap();
        assert!(written.contains("h4999.example.com"), "{format}");
    }
}
