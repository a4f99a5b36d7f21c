//! Packages that are wrong, broken or hostile: each is refused with the file and what was
//! expected, no message shows the tenant id whole, and nothing panics or takes long.

use serde_json::{json, Value};

use super::{assert_no_org, blob, eu_streamlined, every_shape, shapes_of, us_standard, ORG};
use crate::onboarding::parse;

/// The message of the error `bytes` give as `file`.
fn error_of(bytes: &[u8], file: &str) -> String {
    match parse(bytes, file) {
        Ok(tenant) => panic!("{file} was read: {tenant:?}"),
        Err(e) => {
            let message = e.to_string();
            assert_no_org(&message);
            message
        }
    }
}

/// The EU body with `key` set to `value`.
fn eu_with(key: &str, value: Value) -> Value {
    let mut body = eu_streamlined();
    body[key] = value;
    body
}

/// The error every shape of `body` gives; each must contain `wanted`.
fn each_shape_refuses(body: &Value, wanted: &str) {
    for (name, text, _) in every_shape(body) {
        let message = error_of(text.as_bytes(), name);
        assert!(message.starts_with(name), "{message}");
        assert!(message.contains(wanted), "{name}: {message}");
    }
}

#[test]
fn a_file_that_is_no_package_says_what_is_expected() {
    assert_eq!(
        error_of(b"#!/bin/sh\necho 'hello' \"world\"\n", "pkg.sh"),
        "pkg.sh: no onboarding blob found: expected the onboarding package downloaded from the \
         Defender portal (MicrosoftDefenderATPOnboardingLinuxServer.py, mdatp_onboard.json, \
         MicrosoftDefenderATPOnboardingMacOs.sh, the MDM .xml/.plist or \
         WindowsDefenderATPOnboardingScript.cmd)"
    );
    for (file, text) in [
        ("empty.json", ""),
        ("a.py", "print('{\"a\": 1}')\n"),
        (
            "a.plist",
            "<plist><dict><key>Other</key><string>x</string></dict></plist>",
        ),
        ("notes.txt", "just some words, and a { brace"),
        ("a.cmd", "REG add HKLM\\X /v Other /d \"{}\"\r\n"),
    ] {
        let message = error_of(text.as_bytes(), file);
        assert!(
            message.starts_with(&format!(
                "{file}: no onboarding blob found: expected the onboarding package"
            )),
            "{message}"
        );
    }
    assert_eq!(
        error_of(b"{\"a\": 1}", "a.json"),
        "a.json: the JSON has neither onboardingInfo nor body: expected the onboarding package \
         as downloaded from the Defender portal"
    );
}

#[test]
fn a_body_that_is_not_json_is_refused() {
    let info = json!({ "body": "{\"orgId\": \"x\", ", "sig": "c2ln" }).to_string();
    for (name, text, _) in shapes_of(&info) {
        let message = error_of(text.as_bytes(), name);
        assert!(
            message.contains("body ends early: the package is cut short"),
            "{name}: {message}"
        );
    }
    let info = json!({ "body": "orgId=x", "sig": "c2ln" }).to_string();
    for (name, text, _) in shapes_of(&info) {
        let message = error_of(text.as_bytes(), name);
        assert!(
            message.contains("body is not JSON (expected value, line 1 column 1 of it)"),
            "{name}: {message}"
        );
    }
    let info = json!({ "sig": "c2ln" }).to_string();
    for (name, text, _) in shapes_of(&info) {
        let message = error_of(text.as_bytes(), name);
        assert!(
            message.contains("has no body: expected {\"body\": ..., \"sig\": ...}"),
            "{name}: {message}"
        );
    }
}

#[test]
fn a_geography_that_is_unknown_or_missing_is_refused() {
    each_shape_refuses(
        &eu_with("partnerGeoLocation", json!("GW_XX")),
        "partnerGeoLocation \"GW_XX\" is not a known geography: expected GW_ followed by one of \
         US, EU, UK, AU, CH, IN",
    );
    let mut body = eu_streamlined();
    body["partnerGeoLocation"] = Value::Null;
    body["vortexGeoLocation"] = json!("Mars");
    each_shape_refuses(
        &body,
        "vortexGeoLocation \"Mars\" is not a known geography: expected one of US, EU, UK, AU, CH, IN",
    );
    body.as_object_mut().map(|b| b.remove("vortexGeoLocation"));
    each_shape_refuses(
        &body,
        "the body names no geography: expected partnerGeoLocation",
    );
    each_shape_refuses(
        &eu_with("partnerGeoLocation", json!(42)),
        "partnerGeoLocation is a number: expected a string",
    );
}

#[test]
fn a_gateway_that_is_not_https_on_a_microsoft_host_is_refused() {
    let long = format!("https://edr.{}.microsoft.com/", "a".repeat(250));
    for (url, why) in [
        (
            "https://edr-weu.eu.endpoint.security.evil.example/edr/",
            "is not a Microsoft host",
        ),
        (
            "https://winatp-gw-cus.microsoft.com.evil.example/",
            "is not a Microsoft host",
        ),
        ("https://evilmicrosoft.com/", "is not a Microsoft host"),
        ("http://winatp-gw-cus.microsoft.com/", "is not https"),
        (
            "https://user:secret@winatp-gw-cus.microsoft.com/",
            "carries a user name",
        ),
        ("https://20.50.1.1/", "has no host name"),
        ("winatp-gw-cus.microsoft.com", "is not a URL"),
        (long.as_str(), "is longer than 256 characters"),
    ] {
        let wanted = format!("{why}: expected an https URL of a host under .microsoft.com");
        each_shape_refuses(&eu_with("geoLocationUrl", json!(url)), &wanted);
        each_shape_refuses(&eu_with("vortexServerUrl", json!(url)), &wanted);
    }
    let message = error_of(
        super::outer(&blob(&eu_with(
            "geoLocationUrl",
            json!("http://x.example/\u{1b}[31m"),
        )))
        .as_bytes(),
        "a.json",
    );
    assert!(
        message.contains(r#"geoLocationUrl "http://x.example/\u{1b}[31m" is not https"#),
        "{message}"
    );
}

#[test]
fn the_tenant_id_is_never_quoted_whole() {
    for (key, value) in [
        ("partnerGeoLocation", format!("GW_{ORG}")),
        ("geoLocationUrl", format!("https://{ORG}.evil.example/")),
        ("datacenter", format!("dc/{ORG}")),
    ] {
        each_shape_refuses(&eu_with(key, json!(value)), "0f1e…e1f0");
    }
    let mut standard = us_standard();
    standard["vortexGeoLocation"] = json!(ORG.to_ascii_uppercase());
    each_shape_refuses(
        &standard,
        "vortexGeoLocation \"0f1e…e1f0\" is not a known geography",
    );
    for (key, value) in [
        ("datacenter", format!("{ORG} ")),
        ("geoLocationUrl", format!("https://{ORG}.microsoft.com/")),
        (
            "vortexServerUrl",
            format!("https://x.microsoft.com/{}", ORG.to_ascii_uppercase()),
        ),
    ] {
        each_shape_refuses(
            &eu_with(key, json!(value)),
            &format!("{key} holds the tenant's orgId"),
        );
    }
    let mut body = eu_streamlined();
    body.as_object_mut().map(|b| b.remove("orgId"));
    each_shape_refuses(&body, "the body has no orgId");
}

#[test]
fn bytes_that_are_not_utf8_are_refused_with_their_line() {
    let message = error_of(b"{\n\"onboardingInfo\": \"\xff\"}", "mdatp_onboard.json");
    assert!(
        message
            .starts_with("mdatp_onboard.json:2: not UTF-8 text: expected the onboarding package"),
        "{message}"
    );
    let message = error_of(b"bplist00\xd1\x01\x02", "com.microsoft.wdav.atp.plist");
    assert!(
        message.contains("a binary property list: expected an XML property list"),
        "{message}"
    );
}

#[test]
fn a_package_cut_short_is_reported_as_such() {
    for (name, text, _) in every_shape(&eu_streamlined()) {
        let cut = &text.as_bytes()[..text.len() / 2];
        let message = error_of(cut, name);
        assert!(
            !message.contains("no onboarding blob found"),
            "{name}: {message}"
        );
        assert!(
            message.contains("ends early: the package is cut short")
                || message.contains("no closing quote: the script is cut short"),
            "{name}: {message}"
        );
    }
}

#[test]
fn entities_a_document_declares_are_refused() {
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE plist [\n<!ENTITY a \"aaaaaaaaaa\">\n\
                  <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n]>\n<plist><dict>\
                  <key>OnboardingInfo</key><string>&b;</string></dict></plist>";
    let message = error_of(laughs.as_bytes(), "a.plist");
    assert!(
        message.contains("the property list declares XML entities"),
        "{message}"
    );
}

#[test]
fn no_input_panics() {
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, text, _) in every_shape(&eu_streamlined()) {
        let bytes = text.into_bytes();
        let step = (bytes.len() / 150).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            texts.push((name.to_string(), bytes[..cut].to_vec()));
            let mut flipped = bytes.clone();
            flipped[cut] = match flipped[cut] {
                b'"' => b'\\',
                b'\\' => b'"',
                b'<' => b'>',
                other => other ^ 0x80,
            };
            texts.push((name.to_string(), flipped));
        }
    }
    for (name, bytes) in texts {
        let _ = parse(&bytes, &name);
    }
}

#[test]
fn hostile_inputs_end_quickly() {
    let big = 1 << 20;
    let deep_json = format!("{{\"onboardingInfo\": \"{}\"}}", "[".repeat(big / 2));
    let deep_xml = format!("<plist>{}", "<dict>".repeat(big / 12));
    let inputs: Vec<(&str, String)> = vec![
        ("a.json", "[".repeat(big)),
        ("a.json", deep_json),
        ("a.plist", deep_xml),
        ("a.py", "'{\"body\"' ".repeat(big / 10)),
        ("a.py", "'''".repeat(big / 3)),
        ("a.py", "\\".repeat(big)),
        ("a.sh", "<<A ".repeat(big / 4)),
        ("a.sh", "cat <<A\n".repeat(big / 8)),
        ("a.sh", "\"".repeat(big)),
        ("a.cmd", "/v OnboardingInfo /d \"".repeat(big / 24)),
        (
            "a.cmd",
            format!("/v OnboardingInfo /d \"{}", "\\".repeat(big - 24)),
        ),
    ];
    let start = std::time::Instant::now();
    for (name, text) in inputs {
        let _ = parse(text.as_bytes(), name);
    }
    // each reader is linear: a quadratic one would take minutes on these
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}
