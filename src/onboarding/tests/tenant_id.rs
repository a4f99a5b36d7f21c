//! The tenant id is never shown, whole or in part: not in a message's quote however the text is
//! cut, not when the id is short, not in any field the tenant keeps.

use serde_json::{json, Value};

use super::{
    assert_hides, assert_no_org, blob, eu_streamlined, every_shape, outer, us_standard, ORG,
};
use crate::onboarding::parse;

/// The message of the error the Linux JSON of `body` gives.
fn error_of(body: &Value) -> String {
    match parse(outer(&blob(body)).as_bytes(), "mdatp_onboard.json") {
        Ok(tenant) => panic!("the package was read: {tenant:?}"),
        Err(e) => e.to_string(),
    }
}

/// The EU body with `key` set to `value`.
fn eu_with(key: &str, value: impl Into<Value>) -> Value {
    let mut body = eu_streamlined();
    body[key] = value.into();
    body
}

#[test]
fn an_id_the_quote_cuts_is_hidden_whole() {
    // the id was looked for after the quote was cut to 60 characters: 33 of its 36 were shown
    let body = eu_with(
        "geoLocationUrl",
        format!("https://evil.example/x?org={ORG}"),
    );
    for (name, text, _) in every_shape(&body) {
        let message = parse(text.as_bytes(), name).unwrap_err().to_string();
        assert_no_org(&message);
        assert!(
            message.contains(
                "geoLocationUrl \"https://evil.example/x?org=0f1e…e1f0\" is not a Microsoft host"
            ),
            "{name}: {message}"
        );
    }
}

#[test]
fn no_cut_of_any_quoted_field_shows_part_of_the_id() {
    for pad in 0..80 {
        let x = "x".repeat(pad);
        let upper = ORG.to_ascii_uppercase();
        let mut bodies = vec![
            eu_with("geoLocationUrl", format!("https://evil.example/{x}{ORG}")),
            eu_with(
                "vortexServerUrl",
                format!("https://evil.example/{x}{upper}"),
            ),
            eu_with("partnerGeoLocation", format!("{x}{ORG}")),
            // a hidden id before the cut moves it no further into the text
            eu_with("partnerGeoLocation", format!("{ORG}{x}{ORG}")),
            eu_with("datacenter", format!("{x}/{ORG}")),
            // a part of the id is hidden too
            eu_with("partnerGeoLocation", format!("{x}{}", &ORG[..35])),
            eu_with("geoLocationUrl", format!("http://x/{x}{}z", &ORG[3..])),
        ];
        let mut standard = us_standard();
        standard["vortexGeoLocation"] = json!(format!("{x}{ORG}{ORG}"));
        bodies.push(standard);
        for body in bodies {
            let message = error_of(&body);
            assert_no_org(&message);
            assert!(
                message.contains('…'),
                "the hidden id leaves its mark: {message}"
            );
        }
    }
}

#[test]
fn a_field_that_holds_part_of_the_id_is_refused() {
    for (key, value) in [
        ("datacenter", "0f1e2d3c-4b5a".to_string()),
        (
            "geoLocationUrl",
            "https://8796-A5B4C3D2E1F0.microsoft.com/".to_string(),
        ),
        (
            "vortexServerUrl",
            format!("https://x.microsoft.com/{}", &ORG[10..30]),
        ),
    ] {
        let message = error_of(&eu_with(key, value));
        assert!(
            message.ends_with(&format!(
                "{key} holds the tenant's orgId, whole or in part: expected the package as the \
                 Defender portal writes it"
            )),
            "{message}"
        );
    }
}

#[test]
fn a_short_id_is_hidden_where_a_field_holds_it() {
    // an id under 8 characters was printed whole
    let short = "abcdefg";
    let mut body = eu_with("partnerGeoLocation", short);
    body["orgId"] = json!(short);
    for (name, text, _) in every_shape(&body) {
        let message = parse(text.as_bytes(), name).unwrap_err().to_string();
        assert_hides(&message, short);
        assert!(
            message.ends_with(
                "partnerGeoLocation \"…\" is not a known geography: expected GW_ followed by \
                 one of US, EU, UK, AU, CH, IN"
            ),
            "{name}: {message}"
        );
    }
    body["partnerGeoLocation"] = json!("GW_ABCDEFG-x");
    let message = error_of(&body);
    assert!(
        message.contains("partnerGeoLocation \"GW_…-x\""),
        "{message}"
    );
    // read, the short id is shown as the mark alone
    let mut body = eu_streamlined();
    body["orgId"] = json!("abcd");
    let tenant = parse(outer(&blob(&body)).as_bytes(), "a.json").unwrap();
    assert_eq!(tenant.org, "…");
    assert_hides(&format!("{tenant:?}"), "abcd");
}

#[test]
fn an_id_too_short_to_hide_or_too_long_is_refused() {
    for (id, length) in [("a", 1), ("abc", 3), (" ab ", 2), (&"f".repeat(129), 129)] {
        let mut body = eu_streamlined();
        body["orgId"] = json!(id);
        for (name, text, _) in every_shape(&body) {
            let message = parse(text.as_bytes(), name).unwrap_err().to_string();
            assert!(
                message.ends_with(&format!(
                    "orgId is not a tenant id ({length} characters): expected the tenant's \
                     GUID, as the Defender portal writes it"
                )),
                "{name}: {message}"
            );
        }
    }
}
