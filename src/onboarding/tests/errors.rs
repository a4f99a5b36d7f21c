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
                || message.contains("no closing quote: the Windows script is cut short"),
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
    let mut bytes: Vec<(&str, Vec<u8>)> = inputs
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes()))
        .collect();
    let keys: String = (0..big / 16).map(|n| format!("\"k{n}\": 1, ")).collect();
    bytes.push(("a.json", format!("{{{keys}\"body\": 1}}").into_bytes()));
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "'{\"body\"' "
                .repeat(big / 20)
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    bytes.push(("a.py", utf16));
    let signed = [&[0x30, 0x82][..], &vec![b'<'; big]].concat();
    bytes.push(("a.mobileconfig", signed));
    let start = std::time::Instant::now();
    for (name, text) in bytes {
        let _ = parse(&text, name);
    }
    // each reader is linear: a quadratic one would take minutes on these
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn a_gateway_with_a_port_a_query_or_a_fragment_is_refused() {
    // each was probed: `:1/commands/test`, `?a=b/commands/test`, `#commands/test`
    for (url, why) in [
        ("https://x.microsoft.com:1/", "names the port 1"),
        ("https://x.microsoft.com:8443/edr/", "names the port 8443"),
        ("https://x.microsoft.com/edr?a=b", "has a query (?)"),
        ("https://x.microsoft.com/edr?", "has a query (?)"),
        ("https://x.microsoft.com/#frag", "has a fragment (#)"),
        ("https://x.microsoft.com/edr/#", "has a fragment (#)"),
    ] {
        let wanted = format!(
            "{url:?} {why}: expected an https URL of a host under .microsoft.com, on port 443 \
             and without a query or fragment, as the Defender portal writes it"
        );
        for key in ["geoLocationUrl", "vortexServerUrl"] {
            each_shape_refuses(&eu_with(key, json!(url)), &format!("{key} {wanted}"));
        }
    }
    // the default port is the URL without one
    let body = eu_with("geoLocationUrl", json!("https://x.microsoft.com:443/edr/"));
    let tenant = parse(super::outer(&blob(&body)).as_bytes(), "a.json").unwrap();
    assert_eq!(
        tenant.gateway.as_deref(),
        Some("https://x.microsoft.com/edr/")
    );
}

#[test]
fn xml_errors_show_names_plainly_and_no_more_of_a_long_one_than_a_mask() {
    // the quotes were escaped: `expected \'string\' tag`
    let list = "<plist><dict>\n<key>OnboardingInfo</key><string>x</strin></dict></plist>";
    assert_eq!(
        error_of(list.as_bytes(), "a.plist"),
        "a.plist:2: column 35: not well-formed XML (expected 'string' tag, not 'strin'): \
         expected an XML property list as the Defender portal or an MDM writes it"
    );
    // a name may hold the tenant id, which is not known before the document parses
    let list = format!(
        "<plist><dict><key>OnboardingInfo</key><string>{}</str{ORG}></dict></plist>",
        super::xml_escape(&blob(&eu_streamlined()))
    );
    let message = error_of(list.as_bytes(), "a.plist");
    assert!(
        message.contains("not well-formed XML (expected 'string' tag, not 'str0…'):"),
        "{message}"
    );
    let list = format!("<plist><key>OnboardingInfo</key><string>&x{ORG};</string></plist>");
    let message = error_of(list.as_bytes(), "a.plist");
    assert!(
        message.contains("not well-formed XML (unknown entity reference 'x0f1…'):"),
        "{message}"
    );
    // control characters stay escaped
    let list = "<plist><key>OnboardingInfo</key><string>\u{1b}</string></plist>";
    let message = error_of(list.as_bytes(), "a.plist");
    assert!(!message.contains('\u{1b}'), "{message}");
}

#[test]
fn a_windows_script_cut_inside_its_value_is_reported_as_such() {
    // a `/d "` value without its closing quote was read as a Python literal
    let script = super::cmd_script(&blob(&eu_streamlined()));
    let cut = script.replace("\" >> %TMP%", " >> %TMP%");
    for file in [
        "WindowsDefenderATPOnboardingScript.cmd",
        "package.txt",
        "a.py",
    ] {
        assert_eq!(
            error_of(cut.as_bytes(), file),
            format!(
                "{file}:3: the /d value of OnboardingInfo has no closing quote: the Windows \
                 script is cut short; download the package again from the Defender portal"
            )
        );
    }
}

#[test]
fn a_signed_configuration_profile_is_named_as_such() {
    let list = super::plist(&blob(&eu_streamlined()));
    for start in [[0x30, 0x80], [0x30, 0x82]] {
        let mut signed = vec![start[0], start[1], 0x12, 0x34, 0x06, 0x09, 0x2a, 0x86];
        signed.extend_from_slice(&[0x04, 0x82, 0x10, 0x00]);
        signed.extend_from_slice(list.as_bytes());
        signed.extend_from_slice(&[0xa0, 0x82, 0xff, 0x00, 0x00]);
        assert_eq!(
            error_of(&signed, "profile.mobileconfig"),
            "profile.mobileconfig: a signed configuration profile: export the unsigned one or \
             use the .xml/.plist of the Defender portal's package"
        );
    }
}

#[test]
fn utf16_that_is_broken_or_cut_is_refused_with_its_line() {
    let text: Vec<u8> = "{\n\"a\": 1}"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let unpaired = [&[0xff, 0xfe][..], &text, &[0x00, 0xd8, b'x', 0x00]].concat();
    assert!(error_of(&unpaired, "a.json").starts_with(
        "a.json:2: not UTF-16 text, though it starts as such: expected the onboarding package"
    ));
    let odd = [&[0xff, 0xfe][..], &text, b"x"].concat();
    assert_eq!(
        error_of(&odd, "a.json"),
        "a.json:2: the UTF-16 text ends in half a character: the package is cut short; \
         download it again from the Defender portal"
    );
}
