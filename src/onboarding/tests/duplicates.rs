//! A key the reader uses, given twice, is refused in every format and at every level, and named:
//! each format's parser would keep a different one (JSON the last, a property list and a
//! `.cmd` the first).

use serde_json::{json, Value};

use super::{
    assert_no_org, blob, cmd_script, eu_streamlined, intune_xml, plist, shapes_of, xml_escape,
};
use crate::catalog::Geo;
use crate::onboarding::parse;

/// The message of the error `text` gives as `file`.
fn error_of(text: &str, file: &str) -> String {
    match parse(text.as_bytes(), file) {
        Ok(tenant) => panic!("{file} was read: {tenant:?}"),
        Err(e) => {
            let message = e.to_string();
            assert_no_org(&message);
            message
        }
    }
}

/// The EU body as JSON text, with `extra` (`"key": value`) added after its last key.
fn body_with(extra: &str) -> String {
    let body = eu_streamlined().to_string();
    format!("{}, {extra}}}", &body[..body.len() - 1])
}

/// A blob whose body is the JSON text `body`.
fn blob_of(body: &str) -> String {
    json!({ "body": body, "sig": "c2ln" }).to_string()
}

/// The body of the AU geography, otherwise the EU one.
fn au_body() -> Value {
    let mut body = eu_streamlined();
    body["partnerGeoLocation"] = json!("GW_AU");
    body
}

#[test]
fn a_body_field_given_twice_is_refused_in_every_shape() {
    // JSON kept the last: GW_EU then GW_AU was read as AU
    for (extra, key) in [
        (r#""partnerGeoLocation": "GW_AU""#, "partnerGeoLocation"),
        // a second id replaced the first, and only it was kept out of the other fields
        (
            r#""orgId": "ffffffff-0000-0000-0000-ffffffffffff""#,
            "orgId",
        ),
        (r#""datacenter": "x""#, "datacenter"),
        (
            r#""geoLocationUrl": "https://a.microsoft.com/""#,
            "geoLocationUrl",
        ),
        (
            r#""vortexServerUrl": "https://a.microsoft.com/""#,
            "vortexServerUrl",
        ),
        (r#""vortexGeoLocation": "AU""#, "vortexGeoLocation"),
    ] {
        let info = blob_of(&body_with(extra));
        for (name, text, _) in shapes_of(&info) {
            let message = error_of(&text, name);
            assert!(
                message.contains(&format!(
                    "body gives {key} twice: expected each key once, as the Defender portal \
                     writes it"
                )),
                "{name}: {message}"
            );
        }
    }
    // a key the reader does not use may repeat, as JSON allows
    let info = blob_of(&body_with(r#""version": "1.8""#));
    for (name, text, _) in shapes_of(&info) {
        assert_eq!(parse(text.as_bytes(), name).unwrap().geo, Geo::Eu, "{name}");
    }
}

#[test]
fn the_blobs_body_given_twice_is_refused() {
    let (eu, au) = (eu_streamlined().to_string(), au_body().to_string());
    let info = format!(
        r#"{{"body": {}, "body": {}, "sig": "c2ln"}}"#,
        json!(eu),
        json!(au)
    );
    for (name, text, _) in shapes_of(&info) {
        let message = error_of(&text, name);
        assert!(
            message.contains("gives body twice: expected each key once"),
            "{name}: {message}"
        );
    }
    // the layers given as objects, as a registry export has them
    let objects = format!(r#"{{"onboardingInfo": {{"body": {eu}, "body": {au}}}}}"#);
    assert_eq!(
        error_of(&objects, "x.json"),
        "x.json:1: the JSON gives body twice: expected each key once, as the Defender portal \
         writes it"
    );
}

#[test]
fn onboarding_info_given_twice_is_refused() {
    let (eu, au) = (json!(blob(&eu_streamlined())), json!(blob(&au_body())));
    for (first, second) in [
        ("onboardingInfo", "onboardingInfo"),
        ("OnboardingInfo", "onboardingInfo"),
        ("onboardingInfo", "OnboardingInfo"),
    ] {
        let text = format!("{{\n  \"{first}\": {eu},\n  \"{second}\": {au}\n}}\n");
        assert_eq!(
            error_of(&text, "mdatp_onboard.json"),
            format!(
                "mdatp_onboard.json:3: the JSON gives {second} twice: expected each key once, \
                 as the Defender portal writes it"
            )
        );
        let script = format!("import json\nDATA = '''{}'''\n", text.replace('\\', r"\\"));
        let message = error_of(&script, "a.py");
        assert!(
            message.starts_with(&format!(
                "a.py:2: the onboarding JSON gives {second} twice: expected each key once"
            )),
            "{message}"
        );
    }
    // a blob beside the outer key is a second blob
    let both = format!(
        r#"{{"onboardingInfo": {eu}, "body": {}}}"#,
        json!(au_body().to_string())
    );
    assert!(
        error_of(&both, "a.json")
            .ends_with("the JSON has both onboardingInfo and a body: expected one onboarding blob, as the Defender portal writes it"),
    );
}

#[test]
fn two_onboarding_info_strings_in_a_property_list_are_refused() {
    // the first was kept
    let second = format!(
        "\t<key>OnboardingInfo</key>\n\t<string>{}</string>\n</dict>",
        xml_escape(&blob(&au_body()))
    );
    let doubled = plist(&blob(&eu_streamlined())).replacen("</dict>", &second, 1);
    assert_eq!(
        error_of(&doubled, "a.plist"),
        "a.plist:9: a second key OnboardingInfo (the first is on line 7): expected one \
         onboarding blob, as the Defender portal writes it"
    );
    // in the Intune profile, the second in a payload of its own
    let intune = intune_xml(&blob(&eu_streamlined())).replacen(
        "</array>",
        &format!("<dict>{second}</array>"),
        1,
    );
    let message = error_of(&intune, "a.xml");
    assert!(
        message.starts_with("a.xml:13: a second key OnboardingInfo (the first is on line 10)"),
        "{message}"
    );
    // the macOS script writing such a list
    let script = format!("#!/bin/sh\ncat <<'EOF' > out.plist\n{doubled}EOF\n");
    let message = error_of(&script, "a.sh");
    assert!(
        message.starts_with("a.sh:11: a second key OnboardingInfo (the first is on line 9)"),
        "{message}"
    );
}

#[test]
fn two_lines_setting_onboarding_info_in_a_windows_script_are_refused() {
    // the first line was kept
    let eu = cmd_script(&blob(&eu_streamlined()));
    let au = cmd_script(&blob(&au_body()));
    let add_au = au.lines().nth(2).unwrap();
    let doubled = format!("{eu}{add_au}\r\n");
    assert_eq!(
        error_of(&doubled, "WindowsDefenderATPOnboardingScript.cmd"),
        "WindowsDefenderATPOnboardingScript.cmd:7: a second line sets OnboardingInfo (the first \
         is line 3): expected one REG add ... /v OnboardingInfo line, as the Defender portal \
         writes it"
    );
    // under any name: the REG add line makes it a Windows script
    assert!(error_of(&doubled, "package.txt").contains("a second line sets OnboardingInfo"));
    // a line that is a comment, or that reads the value, sets nothing
    for other in [
        format!("REM {add_au}"),
        format!(":: {add_au}"),
        format!("@rem {add_au}"),
        "REG query \"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat Protection\" \
         /v OnboardingInfo"
            .to_string(),
    ] {
        let script = format!("{eu}{other}\r\n");
        let tenant = parse(script.as_bytes(), "a.cmd").unwrap_or_else(|e| panic!("{other}: {e}"));
        assert_eq!(tenant.geo, Geo::Eu, "{other}");
    }
    let two_values = add_au.replacen(" /d ", " /d \"x\" /d ", 1);
    assert_eq!(
        error_of(&two_values, "a.cmd"),
        "a.cmd:1: /v OnboardingInfo has two /d values: expected one onboarding blob in quotes \
         after /d, as the Defender portal writes it"
    );
}
