//! Packages of every shape, made here from a fabricated body (no tenant's blob), wrapped as the
//! portal wraps it, written under the portal's file names and read back.

mod duplicates;
mod errors;
#[cfg(unix)]
mod installed;
mod scripts;
mod tenant_id;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;

/// A fabricated tenant id: it must never be shown whole.
pub(super) const ORG: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

/// [`ORG`] as pinprobe shows it.
const ORG_MASKED: &str = "0f1e…e1f0";

/// A streamlined package of the EU geography.
pub(super) fn eu_streamlined() -> Value {
    json!({
        "previousOrgIds": [],
        "orgId": ORG,
        "geoLocationUrl": "https://edr-weu.eu.endpoint.security.microsoft.com/edr/",
        "datacenter": "WestEurope3",
        "vortexGeoLocation": "EU",
        "vortexServerUrl": "https://eu-v20.events.endpoint.security.microsoft.com/OneCollector/1.0",
        "vortexTicketUrl": "https://events.data.microsoft.com",
        "partnerGeoLocation": "GW_EU",
        "version": "1.7",
        "deviceType": "Server",
        "packageGuid": "11111111-2222-3333-4444-555555555555",
    })
}

/// A standard package of the US geography.
pub(super) fn us_standard() -> Value {
    json!({
        "previousOrgIds": [],
        "orgId": ORG,
        "geoLocationUrl": "https://winatp-gw-cus.microsoft.com/",
        "datacenter": "CentralUs",
        "vortexGeoLocation": "US",
        "version": "1.7",
        "deviceType": "Server",
        "packageGuid": "11111111-2222-3333-4444-555555555555",
    })
}

/// The blob of a body: `{"body": "<body>", "sig": ...}` with the body as a string of JSON.
pub(super) fn blob(body: &Value) -> String {
    json!({
        "body": body.to_string(),
        "sig": "ZmFicmljYXRlZCBzaWduYXR1cmU=",
        "sha256sig": "ZmFicmljYXRlZCBzaWduYXR1cmU=",
        "cert": "ZmFicmljYXRlZCBjZXJ0aWZpY2F0ZQ==",
        "chain": ["ZmFicmljYXRlZCBjaGFpbg==", "ZmFicmljYXRlZCByb290"],
    })
    .to_string()
}

/// `mdatp_onboard.json`: `{"onboardingInfo": "<blob>"}`, indented as the Linux script writes it.
pub(super) fn outer(info: &str) -> String {
    let outer = json!({ "onboardingInfo": info });
    serde_json::to_string_pretty(&outer).unwrap_or_default()
}

/// The Linux script: the outer JSON in a triple-quoted literal, `\` and `'` escaped.
pub(super) fn python_script(info: &str) -> String {
    let literal = outer(info).replace('\\', r"\\").replace('\'', r"\'");
    format!(
        "#!/usr/bin/env python\n\
         # writes the onboarding file; it's \"onboardingInfo\" that matters\n\
         import sys, os, json, subprocess\n\
         destfile = '/etc/opt/microsoft/mdatp/mdatp_onboard.json'\n\
         try:\n    \
             with open(destfile, \"w\") as json:\n        \
                 json.write('''{literal}''')\n\
         except Exception as e:\n    \
             print(str(e))\n"
    )
}

/// An XML property list whose `OnboardingInfo` string is the blob, entities escaped.
pub(super) fn plist(info: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \t<key>OrgId</key>\n\t<string>{ORG}</string>\n\
         \t<key>OnboardingInfo</key>\n\t<string>{}</string>\n\
         </dict>\n</plist>\n",
        xml_escape(info)
    )
}

/// The Intune profile: the preference dict inside a `PayloadContent` array.
pub(super) fn intune_xml(info: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1\">\n<dict>\n\
         <key>PayloadType</key><string>Configuration</string>\n\
         <key>PayloadContent</key>\n<array>\n<dict>\n\
         <key>PayloadType</key><string>com.microsoft.wdav.atp</string>\n\
         <key>AllowUserOverrides</key><true/>\n\
         <key>OnboardingInfo</key>\n<string>{}</string>\n\
         </dict>\n</array>\n</dict>\n</plist>\n",
        xml_escape(info)
    )
}

/// The macOS script: the property list in a heredoc whose delimiter is not quoted, so `\`,
/// `$` and `` ` `` are escaped.
pub(super) fn shell_script(info: &str) -> String {
    let heredoc = plist(info)
        .replace('\\', r"\\")
        .replace('$', r"\$")
        .replace('`', r"\`");
    format!(
        "#!/usr/bin/env bash\n\
         DESTFILE=\"/Library/Application Support/Microsoft/Defender/com.microsoft.wdav.atp.plist\"\n\
         # it's the heredoc below that carries the package\n\
         if [ \"$EUID\" -ne 0 ]; then\n  sudo /usr/bin/env bash $0 $@\n  exit\nfi\n\
         mkdir -p \"$(dirname \"$DESTFILE\")\" || exit 1\n\
         cat <<EOM > \"$DESTFILE\"\n{heredoc}EOM\n\
         echo \"done\"\n"
    )
}

/// The Windows script: `REG add ... /d "<blob>"` with `\` and `"` escaped.
pub(super) fn cmd_script(info: &str) -> String {
    let value = info.replace('\\', r"\\").replace('"', "\\\"");
    format!(
        "@echo off\r\n\
         echo Starting Microsoft Defender for Endpoint onboarding process...\r\n\
         REG add \"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Advanced Threat Protection\" \
         /v OnboardingInfo /t REG_SZ /f /d \"{value}\" >> %TMP%\\senseTmp.txt 2>&1\r\n\
         if %ERRORLEVEL% NEQ 0 (\r\n   GOTO ERROR\r\n)\r\n"
    )
}

/// `&`, `<`, `>`, `"` and `'` as XML entities.
pub(super) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Every shape of a package of `body`: the file name the portal gives it, its text, its shape.
pub(super) fn every_shape(body: &Value) -> Vec<(&'static str, String, Shape)> {
    shapes_of(&blob(body))
}

/// Every shape of a package whose blob is `info`.
pub(super) fn shapes_of(info: &str) -> Vec<(&'static str, String, Shape)> {
    vec![
        ("mdatp_onboard.json", outer(info), Shape::LinuxJson),
        (
            "MicrosoftDefenderATPOnboardingLinuxServer.py",
            python_script(info),
            Shape::LinuxScript,
        ),
        (
            "MicrosoftDefenderATPOnboardingMacOs.sh",
            shell_script(info),
            Shape::MacScript,
        ),
        (
            "WindowsDefenderATPOnboarding.plist",
            plist(info),
            Shape::MdmPlist,
        ),
        (
            "WindowsDefenderATPOnboarding__MDATP_wdav.atp.xml",
            intune_xml(info),
            Shape::MdmPlist,
        ),
        ("com.microsoft.wdav.atp.plist", plist(info), Shape::MdmPlist),
        (
            "WindowsDefenderATPOnboardingScript.cmd",
            cmd_script(info),
            Shape::WindowsScript,
        ),
    ]
}

/// Writes `text` as `name` in `dir`.
pub(super) fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Asserts that `text` shows no eight characters of the tenant id in a row, in any case: no
/// more than its mask shows.
pub(super) fn assert_no_org(text: &str) {
    assert_hides(text, ORG);
}

/// Asserts that `text` shows no run of `org` longer than the eight characters a mask shows (all
/// of a shorter id), in any case.
pub(super) fn assert_hides(text: &str, org: &str) {
    let text = text.to_ascii_lowercase();
    let org: Vec<char> = org.to_ascii_lowercase().chars().collect();
    for run in org.windows(8.min(org.len())) {
        let run: String = run.iter().collect();
        assert!(
            !text.contains(&run),
            "the tenant id is shown in part ({run}): {text}"
        );
    }
}

#[test]
fn every_shape_of_a_streamlined_eu_package_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, shape) in every_shape(&eu_streamlined()) {
        let path = write(dir.path(), name, &text);
        let tenant = read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(tenant.geo, Geo::Eu, "{name}");
        assert_eq!(tenant.catalog, Catalog::Streamlined, "{name}");
        assert_eq!(tenant.shape, shape, "{name}");
        assert_eq!(tenant.datacenter.as_deref(), Some("WestEurope3"), "{name}");
        assert_eq!(
            tenant.gateway.as_deref(),
            Some("https://edr-weu.eu.endpoint.security.microsoft.com/edr/"),
            "{name}"
        );
        assert_eq!(
            tenant.vortex.as_deref(),
            Some("https://eu-v20.events.endpoint.security.microsoft.com/OneCollector/1.0"),
            "{name}"
        );
        assert_eq!(tenant.org, ORG_MASKED, "{name}");
        assert_eq!(tenant.source, path.display().to_string(), "{name}");
        assert_no_org(&format!("{tenant:?}"));
    }
}

#[test]
fn every_shape_of_a_standard_us_package_is_read() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, shape) in every_shape(&us_standard()) {
        let path = write(dir.path(), name, &text);
        let tenant = read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(tenant.geo, Geo::Us, "{name}");
        assert_eq!(tenant.catalog, Catalog::Standard, "{name}");
        assert_eq!(tenant.shape, shape, "{name}");
        assert_eq!(
            tenant.gateway.as_deref(),
            Some("https://winatp-gw-cus.microsoft.com/"),
            "{name}"
        );
        assert_eq!(tenant.vortex, None, "{name}");
        assert_eq!(tenant.datacenter.as_deref(), Some("CentralUs"), "{name}");
        assert_no_org(&format!("{tenant:?}"));
    }
}

#[test]
fn a_package_under_another_name_is_read_by_what_it_holds() {
    let body = eu_streamlined();
    for (name, text, shape) in every_shape(&body) {
        for other in [
            "package.txt",
            "download",
            "onboarding.json",
            "x.py",
            "x.cmd",
        ] {
            let tenant =
                parse(text.as_bytes(), other).unwrap_or_else(|e| panic!("{name} as {other}: {e}"));
            assert_eq!(tenant.shape, shape, "{name} as {other}");
            assert_eq!(tenant.geo, Geo::Eu, "{name} as {other}");
        }
    }
}

#[test]
fn the_blob_alone_and_a_byte_order_mark_are_accepted() {
    let body = us_standard();
    let tenant = parse(blob(&body).as_bytes(), "blob.json").unwrap();
    assert_eq!((tenant.geo, tenant.shape), (Geo::Us, Shape::LinuxJson));
    let with_bom = [b"\xef\xbb\xbf".as_slice(), outer(&blob(&body)).as_bytes()].concat();
    assert_eq!(parse(&with_bom, "mdatp_onboard.json").unwrap().geo, Geo::Us);
    // the registry value as exported: the blob with its layers given as objects
    let objects = json!({ "onboardingInfo": { "body": body } }).to_string();
    assert_eq!(parse(objects.as_bytes(), "x.json").unwrap().geo, Geo::Us);
}

#[test]
fn shapes_are_named_for_people() {
    let names: Vec<String> = [
        Shape::LinuxJson,
        Shape::LinuxScript,
        Shape::MacScript,
        Shape::MdmPlist,
        Shape::WindowsScript,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        [
            "Linux onboarding JSON",
            "Linux onboarding script (.py)",
            "macOS onboarding script (.sh)",
            "macOS MDM property list (.xml/.plist)",
            "Windows onboarding script (.cmd)",
        ]
    );
}

#[test]
fn the_tenant_id_is_masked() {
    assert_eq!(org::mask(ORG), ORG_MASKED);
    assert_eq!(org::mask("short-id"), "…");
    assert_eq!(org::mask("\u{1b}[31mred-and-long\u{1b}[0m"), "…");
}

#[test]
fn white_space_before_the_xml_declaration_is_skipped() {
    // `<?xml` after a blank line was refused as a declaration out of place
    let body = eu_streamlined();
    for padding in ["\n\n   \t", "  ", "\r\n\u{feff}", "\u{feff}\n"] {
        let text = format!("{padding}{}", plist(&blob(&body)));
        let tenant = parse(text.as_bytes(), "a.plist").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((tenant.shape, tenant.geo), (Shape::MdmPlist, Geo::Eu));
    }
    // and the lines and columns of a message are the file's
    let broken = "\n\n  <plist><dict>\n<key>OnboardingInfo</key><strin>x</string></dict></plist>";
    let message = parse(broken.as_bytes(), "a.plist").unwrap_err().to_string();
    assert!(
        message.starts_with("a.plist:4: column 34: not well-formed XML (expected 'strin' tag"),
        "{message}"
    );
    let broken = "\n\n  <plist><key>OnboardingInfo</key><string>x</strin></plist>";
    let message = parse(broken.as_bytes(), "a.plist").unwrap_err().to_string();
    assert!(
        message.starts_with("a.plist:3: column 44: not well-formed XML (expected 'string' tag"),
        "{message}"
    );
}

#[test]
fn a_partner_geography_is_read_in_any_case() {
    for (partner, geo) in [
        ("GW_us", Geo::Us),
        ("gw_eu", Geo::Eu),
        ("Gw_Uk", Geo::Uk),
        ("GW_AU", Geo::Au),
    ] {
        let mut body = eu_streamlined();
        body["partnerGeoLocation"] = json!(partner);
        let tenant = parse(outer(&blob(&body)).as_bytes(), "a.json").unwrap();
        assert_eq!((tenant.geo, tenant.catalog), (geo, Catalog::Streamlined));
    }
    for other in ["GW-EU", "GWEU", "GW_ EU", "EU", "XGW_EU", "GW_EUR"] {
        let mut body = eu_streamlined();
        body["partnerGeoLocation"] = json!(other);
        let message = parse(outer(&blob(&body)).as_bytes(), "a.json")
            .unwrap_err()
            .to_string();
        assert!(message.contains("is not a known geography"), "{message}");
    }
}

#[test]
fn utf16_text_with_a_byte_order_mark_is_read() {
    // as Windows tools may save a .cmd or an .xml; it was refused as "not UTF-8 text"
    let body = eu_streamlined();
    for (name, text, shape) in every_shape(&body) {
        let units: Vec<u16> = text.encode_utf16().collect();
        let le = [
            &[0xff, 0xfe][..],
            &units
                .iter()
                .flat_map(|u| u.to_le_bytes())
                .collect::<Vec<u8>>(),
        ]
        .concat();
        let be = [
            &[0xfe, 0xff][..],
            &units
                .iter()
                .flat_map(|u| u.to_be_bytes())
                .collect::<Vec<u8>>(),
        ]
        .concat();
        for bytes in [le, be] {
            let tenant = parse(&bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((tenant.shape, tenant.geo), (shape, Geo::Eu), "{name}");
        }
    }
}
